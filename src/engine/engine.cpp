#include "engine/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <utility>

#include "core/error.hpp"
#include "core/lut_function.hpp"
#include "engine/jit.hpp"
#include "engine/layer_plan.hpp"
#include "engine/plan.hpp"
#include "engine/worker_pool.hpp"

namespace lutnet::engine {

namespace {

static_assert(detail::kMaxLevels == kMaxLevels);
static_assert(detail::kMaxEffectiveInputs == kMaxLutInputs);
using detail::KernelTable;
using detail::LayerData;
using detail::LayerPlan;
using detail::pixels_of;
using detail::planes_of;

bool cpu_has(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2");
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("gfni");
    case Isa::kBest:
      return true;
  }
  return false;
#else
  return isa == Isa::kScalar || isa == Isa::kBest;
#endif
}

const KernelTable& kernels_for(Isa isa) {
  switch (isa) {
    case Isa::kAvx2:
      return detail::avx2_kernels();
    case Isa::kAvx512:
      return detail::avx512_kernels();
    default:
      return detail::scalar_kernels();
  }
}

Isa resolve(Isa isa) {
  if (isa == Isa::kBest) return best_isa();
  if (!cpu_has(isa))
    throw Error(
        fmt::format("isa {} is not supported by this CPU (available: {})", isa_name(isa), [] {
          std::string names;
          for (Isa a : available_isas())
            names += (names.empty() ? "" : ", ") + std::string(isa_name(a));
          return names;
        }()));
  return isa;
}

}  // namespace

// Named, not anonymous: Impl holds it, and a unity build includes this file.
namespace detail {
// 64-byte aligned memory that run() reuses.
struct AlignedBuffer {
  void* data = nullptr;
  explicit AlignedBuffer(size_t bytes)
      : data(::operator new (std::max<size_t>(bytes, 64), std::align_val_t{64})) {
    std::memset(data, 0, std::max<size_t>(bytes, 64));
  }
  AlignedBuffer(AlignedBuffer&& other) noexcept : data(std::exchange(other.data, nullptr)) {}
  AlignedBuffer& operator=(AlignedBuffer&&) = delete;
  AlignedBuffer(const AlignedBuffer&) = delete;
  ~AlignedBuffer() {
    if (data) ::operator delete (data, std::align_val_t{64});
  }
};
}  // namespace detail

namespace {

// Chunks per group for generated code. AVX-512: at most kMaxGroupChunks, and plane buffers of at
// most kGroupBytes per group (measured on the MNIST model, Zen 5: 1 chunk 320, 4 chunks 218, 16
// chunks 203 ns/image). AVX2 (Zen 3, 512 KiB of L2): the planes a layer reads stay in L1 only
// for a chunk or two, and the 16-register code is twice as long per LUT, so code reuse buys less
// than it costs in L1 misses: 2 chunks (4 passes of the code over 256-bit halves; trained MNIST
// model, 1 / 2 / 4 chunks: 456 / 446 / 466 ns/image).
constexpr size_t kMaxGroupChunks = 16;
constexpr size_t kGroupBytes = 2048 * 1024;
constexpr size_t kAvx2GroupChunks = 2;

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kBest:
      return "best";
  }
  return "?";
}

Isa parse_isa(std::string_view name) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kBest})
    if (name == isa_name(isa)) return isa;
  throw Error(fmt::format("unknown isa '{}' (expected scalar, avx2, avx512 or best)", name));
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512})
    if (cpu_has(isa)) out.push_back(isa);
  return out;
}

Isa best_isa() { return available_isas().back(); }

int word_bits(Isa isa) { return kernels_for(isa == Isa::kBest ? best_isa() : isa).word_bits; }

struct CompiledModel::Impl {
  Isa isa = Isa::kScalar;
  const KernelTable* kernels = nullptr;
  detail::OpCosts cost{};
  int threads = 1;
  int num_pixels = 0;
  int num_classes = 0;
  std::vector<LayerData> layers;
  std::vector<PlanOps> layer_ops;
  std::vector<LayerPlan> layer_plans;
  detail::ModelPlan plan{};
  // Sizes the workspaces need (words).
  size_t max_planes = 0;   // plane buffer of any layer's input
  size_t max_scratch = 8;  // LUT outputs of one (output, level)
  size_t max_partial = 0;  // accumulators kept between the levels of a layer
  size_t max_window = 0;   // a conv layer's window or pixel buffer
  std::vector<detail::AlignedBuffer> memory;
  std::vector<detail::JitLayer> generated;
  std::vector<detail::Workspace> workspaces;
  PlanOps ops;
  std::unique_ptr<detail::WorkerPool> pool;
  mutable std::mutex run_mutex;
};

CompiledModel::CompiledModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledModel::CompiledModel(CompiledModel&&) noexcept = default;
CompiledModel& CompiledModel::operator=(CompiledModel&&) noexcept = default;
CompiledModel::~CompiledModel() = default;

namespace {

using Impl = CompiledModel::Impl;

// Pass: the ISA and its kernels, the input encoding.
std::unique_ptr<Impl> start_plan(const Model& model, const EngineOptions& options) {
  if (options.threads < 1 || options.threads > 256)
    throw Error(fmt::format("threads = {} is out of range 1..256", options.threads));
  auto impl = std::make_unique<Impl>();
  impl->isa = resolve(options.isa);
  impl->kernels = &kernels_for(impl->isa);
  impl->cost = detail::op_costs(impl->isa);
  impl->threads = options.threads;
  impl->num_pixels = model.input.num_pixels();
  impl->num_classes = model.num_classes;
  detail::EncodePlan& enc = impl->plan.encode;
  enc.num_pixels = static_cast<uint32_t>(impl->num_pixels);
  enc.num_thresholds = static_cast<uint32_t>(model.input.thresholds.size());
  for (size_t j = 0; j < model.input.thresholds.size() && j < 8; ++j)
    enc.thresholds[j] = model.input.thresholds[j];
  return impl;
}

// Pass: every layer's plan (LUTs reduced to records, thresholds to unsigned compares, conv and
// pool geometry) and the buffer sizes it needs.
void build_layer_plans(const Model& model, const std::vector<ActivationShape>& shapes, Impl& impl) {
  const int bits = impl.kernels->word_bits;
  for (size_t i = 0; i + 1 < shapes.size(); ++i)
    impl.max_planes = std::max(impl.max_planes, planes_of(shapes[i]));
  const size_t n_layers = model.layers.size();
  impl.layers.resize(n_layers);
  impl.layer_ops.resize(n_layers);
  for (size_t i = 0; i < n_layers; ++i) {
    LayerData& data = impl.layers[i];
    const Layer& layer = model.layers[i];
    if (layer.has_luts())
      detail::build_lut_array(layer, bits, impl.cost, data, impl.layer_ops[i], impl.max_scratch);
    if (layer.kind != LayerKind::kLutDense)
      detail::build_window(layer, shapes[i], shapes[i + 1], data, impl.layer_ops[i]);
    const LayerPlan& p = data.plan;
    impl.max_partial = std::max(
        impl.max_partial, static_cast<size_t>(detail::plane_class(p.acc_bits)) * p.num_outputs);
    impl.max_window = std::max<size_t>(impl.max_window, p.window.buffer_words);
  }
}

// Pass, from the last layer back: which complement planes each reader needs (the generic dense
// kernel reads them, generated code where JitLayer::reads_complements says so, which neither
// generator does now; a conv layer makes its own when it gathers its window), and generated code
// for the LUT arrays where the ISA and the layer allow it.
void plan_complements_and_code(const Model& model, const EngineOptions& options, Impl& impl) {
  const size_t n_layers = impl.layers.size();
  const int bits = impl.kernels->word_bits;
  std::vector<bool> reads_complements(n_layers, false);  // the LUT array reads them
  for (size_t i = n_layers; i-- > 0;) {
    LayerPlan& p = impl.layers[i].plan;
    const bool next_reads_complements = i + 1 < n_layers &&
                                        impl.layers[i + 1].plan.kind == detail::kDenseStep &&
                                        reads_complements[i + 1];
    p.window.write_complements = next_reads_complements;
    p.write_complements = p.kind == detail::kDenseStep && next_reads_complements;
    if (p.kind == detail::kPoolStep) continue;
    reads_complements[i] = true;  // the generic kernel's leaves
    if (detail::has_code_generator(impl.isa) && options.generate_code) {
      const size_t stride = p.kind == detail::kConvStep ? p.window.buffer_words : impl.max_planes;
      detail::JitLayer jit =
          detail::jit_layer(impl.isa, model.layers[i], static_cast<int>(p.acc_bits),
                            stride * (bits / 8), p.compare, p.write_complements);
      if (jit.fn) {
        p.jit = jit.fn;
        reads_complements[i] = jit.reads_complements;
        const double repeats = pixels_of(p);
        impl.layer_ops[i] = {jit.lut_ops * repeats, jit.adder_ops * repeats, 0,
                             jit.threshold_ops * repeats};
        impl.generated.push_back(std::move(jit));
      }
    }
    p.window.gather_complements = p.kind == detail::kConvStep && reads_complements[i];
  }
  impl.plan.encode.write_complements =
      impl.layers.front().plan.kind == detail::kDenseStep && reads_complements.front();
}

// Pass: the operation counts of the final plan, and the plan array the kernels read.
void finish_plan(const Model& model, Impl& impl) {
  const detail::OpCosts& cost = impl.cost;
  for (size_t i = 0; i < impl.layers.size(); ++i) {
    const LayerPlan& p = impl.layers[i].plan;
    PlanOps& ops = impl.layer_ops[i];
    if (p.kind != detail::kPoolStep && !p.jit && !p.write_complements)  // build counted them
      ops.threshold -= cost.not_ * p.out_levels * p.num_outputs * pixels_of(p);
    if (p.window.write_complements)
      ops.threshold += cost.not_ * p.window.levels * p.window.out_plane_bits;
    if (p.window.gather_complements)
      ops.threshold += cost.not_ * p.window.levels * p.window.window_size * pixels_of(p);
    impl.ops.lut += ops.lut;
    impl.ops.popcount += ops.popcount;
    impl.ops.accumulate += ops.accumulate;
    impl.ops.threshold += ops.threshold;
    impl.layer_plans.push_back(p);
  }
  if (impl.plan.encode.write_complements) impl.ops.threshold += cost.not_ * model.input.num_bits();
  impl.plan.layers = impl.layer_plans.data();
  impl.plan.num_layers = static_cast<uint32_t>(impl.layer_plans.size());
  impl.plan.num_classes = static_cast<uint32_t>(model.num_classes);
  impl.plan.max_scratch = static_cast<uint32_t>(impl.max_scratch);
  impl.plan.buffer_words = static_cast<uint32_t>(impl.max_planes);
  // Generated code runs each output over a group of chunks (its loop then fits the op cache);
  // the group's plane buffers must still fit the core's L2.
  const size_t bytes = impl.max_planes * static_cast<size_t>(impl.kernels->word_bits) / 8;
  const size_t group = impl.isa == Isa::kAvx2
                           ? kAvx2GroupChunks
                           : std::clamp<size_t>(kGroupBytes / bytes, 1, kMaxGroupChunks);
  impl.plan.group_chunks = static_cast<uint32_t>(impl.generated.empty() ? 1 : group);
}

// Pass: every thread's memory, so that run() allocates nothing.
void allocate_workspaces(Impl& impl) {
  const size_t word_bytes = static_cast<size_t>(impl.kernels->word_bits) / 8;
  const size_t group = impl.plan.group_chunks;
  const LayerPlan& last = impl.layer_plans.back();
  auto take = [&](size_t bytes) {
    impl.memory.emplace_back(bytes);
    return impl.memory.back().data;
  };
  for (int t = 0; t < impl.threads; ++t) {
    detail::Workspace ws{};
    ws.buffers[0] = take(group * impl.max_planes * word_bytes);
    ws.buffers[1] = take(group * impl.max_planes * word_bytes);
    ws.scratch = take(impl.max_scratch * word_bytes);
    ws.acc = take(group * last.num_outputs * last.acc_bits * word_bytes);
    ws.partial = take(impl.max_partial * word_bytes);
    ws.window = take(group * impl.max_window * word_bytes);
    ws.pixel = take(group * impl.max_window * word_bytes);
    const size_t blocks = (static_cast<size_t>(impl.num_pixels) + 63) / 64;
    ws.rows = static_cast<uint64_t*>(
        take(word_bytes / 8 * 64 * blocks * impl.plan.encode.num_thresholds * sizeof(uint64_t)));
    impl.workspaces.push_back(ws);
  }
  if (impl.threads > 1) impl.pool = std::make_unique<detail::WorkerPool>(impl.threads);
}

}  // namespace

// Compilation as a list of passes; each fills part of the plan.
CompiledModel CompiledModel::compile(const Model& model, const EngineOptions& options) {
  validate(model);
  std::unique_ptr<Impl> impl = start_plan(model, options);
  build_layer_plans(model, infer_shapes(model), *impl);
  plan_complements_and_code(model, options, *impl);
  finish_plan(model, *impl);
  allocate_workspaces(*impl);
  return CompiledModel(std::move(impl));
}

namespace {
struct RunContext {
  const KernelTable* kernels;
  const detail::ModelPlan* plan;
  const detail::Workspace* workspaces;
  size_t pixels_per_image;
  size_t classes;
  const uint8_t* pixels;
  size_t count;
  int32_t* labels;
  int64_t* scores;
  size_t chunks;
  int workers;
};
}  // namespace

void CompiledModel::run(const uint8_t* pixels, size_t count, int32_t* labels,
                        int64_t* scores) const {
  if (count == 0) return;
  const Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.run_mutex);
  const size_t per_chunk = static_cast<size_t>(m.kernels->word_bits);
  const size_t chunks = (count + per_chunk - 1) / per_chunk;
  const int workers = static_cast<int>(std::min<size_t>(static_cast<size_t>(m.threads), chunks));
  RunContext ctx{m.kernels,
                 &m.plan,
                 m.workspaces.data(),
                 static_cast<size_t>(m.num_pixels),
                 static_cast<size_t>(m.num_classes),
                 pixels,
                 count,
                 labels,
                 scores,
                 chunks,
                 workers};
  // Each worker takes an equal contiguous range of chunks (words of images) and runs it in
  // groups of up to group_chunks.
  auto work = [](void* p, int w) {
    const auto& c = *static_cast<const RunContext*>(p);
    const size_t per = static_cast<size_t>(c.kernels->word_bits);
    const size_t begin = c.chunks * static_cast<size_t>(w) / static_cast<size_t>(c.workers);
    const size_t end = c.chunks * static_cast<size_t>(w + 1) / static_cast<size_t>(c.workers);
    for (size_t chunk = begin; chunk < end; chunk += c.plan->group_chunks) {
      const size_t first = chunk * per;
      const size_t last = std::min(end, chunk + c.plan->group_chunks) * per;
      const size_t n = std::min(last, c.count) - first;
      c.kernels->run_group(*c.plan, c.workspaces[w], c.pixels + first * c.pixels_per_image, n,
                           c.labels + first, c.scores ? c.scores + first * c.classes : nullptr);
    }
  };
  if (workers <= 1) {
    work(&ctx, 0);
  } else {
    m.pool->run(workers, work, &ctx);
  }
}

const char* CompiledModel::isa_name() const { return engine::isa_name(impl_->isa); }
int CompiledModel::generated_layers() const { return static_cast<int>(impl_->generated.size()); }
size_t CompiledModel::generated_code_bytes() const {
  size_t bytes = 0;
  for (const auto& g : impl_->generated) bytes += g.code_bytes;
  return bytes;
}
Isa CompiledModel::isa() const { return impl_->isa; }
int CompiledModel::threads() const { return impl_->threads; }
int CompiledModel::word_bits() const { return impl_->kernels->word_bits; }
int CompiledModel::num_pixels() const { return impl_->num_pixels; }
int CompiledModel::num_classes() const { return impl_->num_classes; }
const PlanOps& CompiledModel::plan_ops() const { return impl_->ops; }
double CompiledModel::word_ops_per_image() const {
  return impl_->ops.total() / impl_->kernels->word_bits;
}

PeakRate measure_peak_word_ops(Isa isa, double seconds, int threads) {
  const KernelTable& k = kernels_for(resolve(isa));
  using clock = std::chrono::steady_clock;
  auto time = [&](uint64_t iterations) {
    const auto t0 = clock::now();
    k.peak_loop(iterations);
    return std::chrono::duration<double>(clock::now() - t0).count();
  };
  uint64_t iterations = 1 << 16;
  while (time(iterations) < 0.01) iterations *= 2;
  const double per_iteration = time(iterations) / static_cast<double>(iterations);
  iterations = std::max<uint64_t>(1, static_cast<uint64_t>(seconds / 3 / per_iteration));
  threads = std::max(1, threads);
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    std::vector<double> elapsed(static_cast<size_t>(threads));
    std::vector<std::thread> others;
    for (int t = 1; t < threads; ++t)
      others.emplace_back([&, t] { elapsed[static_cast<size_t>(t)] = time(iterations); });
    elapsed[0] = time(iterations);
    for (auto& t : others) t.join();
    double rate = 0;
    for (double e : elapsed) rate += static_cast<double>(iterations) * k.peak_ops_per_iteration / e;
    best = std::max(best, rate);
  }
  return {best, k.word_bits};
}

std::vector<LayerStats> layer_stats(const Model& model) {
  std::vector<LayerStats> out;
  const std::vector<ActivationShape> shapes = infer_shapes(model);
  for (size_t li = 0; li < model.layers.size(); ++li) {
    const Layer& layer = model.layers[li];
    LayerStats s;
    s.kind = layer.kind;
    if (!layer.has_luts()) {
      s.inputs = static_cast<int>(shapes[li].plane_bits());
      s.input_levels = shapes[li].levels;
      s.outputs = static_cast<int>(shapes[li + 1].plane_bits());
      out.push_back(std::move(s));
      continue;
    }
    if (layer.kind == LayerKind::kLutConv2d)
      s.pixels = int64_t{shapes[li + 1].height} * shapes[li + 1].width;
    s.inputs = layer.num_inputs;
    s.input_levels = layer.input_levels;
    s.outputs = layer.num_outputs;
    s.k = layer.k;
    s.connections = layer.num_connections();
    s.fraction_kept = static_cast<double>(s.connections) /
                      (static_cast<double>(layer.num_inputs) * layer.num_outputs);
    std::vector<bool> read(static_cast<size_t>(layer.num_inputs), false);
    for (uint32_t i : layer.lut_inputs) read[i] = true;
    s.distinct_inputs_read = static_cast<size_t>(std::count(read.begin(), read.end(), true));
    s.tables_ignoring_input.assign(static_cast<size_t>(layer.k), 0);
    s.tables = layer.tables.size();
    for (uint64_t table : layer.tables) {
      bool ignores_some = false;
      for (int k = 0; k < layer.k; ++k) {
        if (!table_depends_on_input(table, layer.k, k)) {
          ++s.tables_ignoring_input[static_cast<size_t>(k)];
          ignores_some = true;
        }
      }
      s.tables_ignoring_some += ignores_some ? 1 : 0;
    }
    out.push_back(std::move(s));
  }
  return out;
}

void transpose64_for_test(Isa isa, uint64_t* a) { kernels_for(resolve(isa)).transpose64(a); }

}  // namespace lutnet::engine
