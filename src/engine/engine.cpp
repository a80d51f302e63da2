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
#include "engine/jit_avx512.hpp"
#include "engine/leaf_order.hpp"
#include "engine/plan.hpp"

namespace lutnet::engine {

namespace {

using detail::kHeaderWords;
static_assert(detail::kMaxLevels == kMaxLevels);
static_assert(detail::kMaxEffectiveInputs == kMaxLutInputs);
using detail::best_leaf_order;
using detail::KernelTable;
using detail::LayerPlan;

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

// Chunks per group for generated code: at most kMaxGroupChunks, and plane buffers of at most
// kGroupBytes per group (measured on the MNIST model: 1 chunk 320, 4 chunks 218, 16 chunks
// 203 ns/image).
constexpr size_t kMaxGroupChunks = 16;
constexpr size_t kGroupBytes = 2048 * 1024;

// Planes of the kernel's counters and accumulators for a layer (run_layer_sized).
int plane_class(uint32_t acc_bits) {
  return acc_bits < 8 ? 8 : acc_bits < 16 ? 16 : acc_bits < 32 ? 32 : 64;
}

// Logic-op costs of one kernel operation per ISA (vpternlogq does each in one).
struct OpCosts {
  double mux, xor3, maj, and_, xor_, not_, ge;
};
OpCosts op_costs(Isa isa) {
  if (isa == Isa::kAvx512) return {1, 1, 1, 1, 1, 1, 1};
  return {3, 2, 4, 1, 1, 1, 4};
}

struct LayerData {
  std::vector<uint32_t> window_base;  // conv
  std::vector<uint32_t> headers;
  std::vector<uint64_t> records;
  std::vector<uint32_t> level_weights;
  std::vector<uint64_t> compare;
  std::vector<uint8_t> invert;
  LayerPlan plan{};
};

// Builds one layer's plan for words of word_bits samples; adds its operations to ops.
void build_layer(const Layer& layer, int word_bits, const OpCosts& cost, LayerData& out,
                 PlanOps& ops, size_t& max_scratch) {
  const uint32_t n_in = static_cast<uint32_t>(layer.num_inputs);
  const uint32_t levels = static_cast<uint32_t>(layer.input_levels);
  const uint64_t unit = static_cast<uint64_t>(word_bits) / 64;
  const uint64_t n_planes = 2 + 2 * static_cast<uint64_t>(levels) * n_in;
  const bool wide = n_planes * unit > std::numeric_limits<uint16_t>::max();
  if (n_planes * unit > std::numeric_limits<uint32_t>::max())
    throw Error(
        fmt::format("layer with {} inputs x {} levels is too large for the engine", n_in, levels));
  auto plane = [&](uint32_t level, uint32_t input, bool complement) -> uint64_t {
    return 2 + static_cast<uint64_t>(level) * 2 * n_in + (complement ? n_in : 0) + input;
  };
  // Offsets of the current record, packed 4 (or 2) per qword by flush().
  const int per_qword = wide ? 2 : 4;
  int field = 0;
  auto emit = [&](uint64_t p) {
    if (field == 0) out.records.push_back(0);
    out.records.back() |= (p * unit) << ((wide ? 32 : 16) * field);
    field = (field + 1) % per_qword;
  };
  auto flush = [&] { field = 0; };

  // Reduce every LUT; per (level, output) emit the records sorted by Ke, then the header.
  uint64_t max_count = 0;
  uint64_t max_acc = 0;
  std::vector<ReducedLut> reduced;
  std::vector<uint64_t> acc_max(static_cast<size_t>(layer.num_outputs), 0);
  for (uint32_t l = 0; l < levels; ++l) {
    for (int o = 0; o < layer.num_outputs; ++o) {
      uint32_t header[kHeaderWords] = {};
      reduced.clear();
      for (uint32_t c = layer.conn_offset[o]; c < layer.conn_offset[o + 1]; ++c) {
        const ReducedLut r = best_leaf_order(reduce_lut(
            {&layer.lut_inputs[static_cast<size_t>(c) * layer.k], static_cast<size_t>(layer.k)},
            layer.tables[static_cast<size_t>(c) * levels + l]));
        if (r.num_inputs == 0) {
          header[0] += static_cast<uint32_t>(r.table & 1u);
        } else {
          ++header[r.num_inputs];
          reduced.push_back(r);
        }
      }
      std::stable_sort(
          reduced.begin(), reduced.end(),
          [](const ReducedLut& a, const ReducedLut& b) { return a.num_inputs < b.num_inputs; });
      for (const ReducedLut& r : reduced) {
        const int leaves = 1 << (r.num_inputs - 1);
        for (int j = 0; j < leaves; ++j) {
          const unsigned pair = static_cast<unsigned>((r.table >> (2 * j)) & 3u);  // (f0, f1)
          if (pair == 0) {
            emit(0);
          } else if (pair == 3) {
            emit(1);
          } else {
            emit(plane(l, r.inputs[0], pair == 1));  // f0 = 1, f1 = 0: ~x0
          }
        }
        for (int i = 1; i < r.num_inputs; ++i) emit(plane(l, r.inputs[i], false));
        flush();
        ops.lut += cost.mux * (leaves - 1);
      }
      out.headers.insert(out.headers.end(), header, header + kHeaderWords);
      uint64_t count = header[0];
      for (int ke = 1; ke <= detail::kMaxEffectiveInputs; ++ke) count += header[ke];
      max_count = std::max(max_count, count);
      max_scratch = std::max<size_t>(max_scratch, (count + 7) / 8 * 8);
      acc_max[o] += count * static_cast<uint64_t>(layer.level_weights[l]);
    }
  }
  for (uint64_t a : acc_max) max_acc = std::max(max_acc, a);

  LayerPlan& p = out.plan;
  p.num_outputs = static_cast<uint32_t>(layer.num_outputs);
  p.num_levels = levels;
  p.out_levels =
      layer.output == LayerOutput::kArgmax ? 0u : static_cast<uint32_t>(layer.output_levels);
  p.acc_bits = static_cast<uint32_t>(std::max(1, static_cast<int>(std::bit_width(max_acc))));
  p.count_bits = static_cast<uint32_t>(std::max(4, static_cast<int>(std::bit_width(max_count))));
  p.thresholds_per_output = static_cast<uint32_t>(layer.thresholds_per_output());
  for (int64_t w : layer.level_weights) out.level_weights.push_back(static_cast<uint32_t>(w));

  // Thresholds as unsigned compares (accumulator_compare), the constant clamped to [0, 2^B]
  // where acc < 2^B.
  const int64_t limit = int64_t{1} << p.acc_bits;
  for (int o = 0; o < layer.num_outputs && p.out_levels > 0; ++o) {
    out.invert.push_back(layer.output_sign[o] < 0 ? 1 : 0);
    for (uint32_t t = 0; t < p.thresholds_per_output; ++t) {
      const int64_t threshold = std::clamp<int64_t>(
          layer.thresholds[static_cast<size_t>(o) * p.thresholds_per_output + t],
          -(int64_t{1} << 61), int64_t{1} << 61);
      const AccumulatorCompare c = accumulator_compare(layer.output_sign[o], threshold);
      out.compare.push_back(static_cast<uint64_t>(std::clamp<int64_t>(c.at_least, 0, limit)));
    }
  }

  // Operation counts of the kernel (kernels_impl.inc) for one word of samples.
  const int n = plane_class(p.acc_bits);
  const double fa = cost.xor3 + cost.maj;
  const double inc = (cost.and_ + cost.xor_) * (n - 4);
  for (size_t h = 0; h < out.headers.size(); h += kHeaderWords) {
    uint64_t count = 0;
    for (int i = 0; i < kHeaderWords; ++i) count += out.headers[h + i];
    const uint64_t padded = (count + 3) / 4 * 4;
    ops.popcount += static_cast<double>(padded / 16) * (15 * fa + inc);
    if (padded % 16 >= 8) ops.popcount += 7 * fa + cost.and_ + cost.xor_ + inc;
    if (padded % 8 >= 4) ops.popcount += 3 * fa + 2 * (cost.and_ + cost.xor_) + inc;
    const uint32_t w = out.level_weights[h / kHeaderWords / layer.num_outputs];
    for (int s = 0; s < n; ++s)
      if ((w >> s) & 1u) ops.accumulate += fa * (n - s);
  }
  if (p.out_levels > 0) {
    double per_output = p.thresholds_per_output * ((p.acc_bits + 1) * cost.ge + cost.xor_);
    for (uint32_t b = 0; b < p.out_levels; ++b)
      per_output += cost.mux * ((1u << b) - 1) + cost.not_;
    ops.threshold += per_output * layer.num_outputs;
  }

  p.headers = out.headers.data();
  p.wide_indices = wide;
  p.records = out.records.data();
  p.level_weights = out.level_weights.data();
  p.compare = out.compare.data();
  p.invert = out.invert.data();
}

// Plane buffer words of an activation (plan.hpp): zeros, ones, then each level and complement.
size_t planes_of(const ActivationShape& shape) {
  return 2 + 2 * static_cast<size_t>(shape.levels) * static_cast<size_t>(shape.plane_bits());
}

// Output pixels a layer's LUT array runs for: 1 for a dense layer.
double pixels_of(const LayerPlan& p) {
  return p.kind == detail::kDenseStep
             ? 1.0
             : static_cast<double>(p.window.out_height) * p.window.out_width;
}

// The geometry of a conv or pool layer; build_layer has already built a conv layer's LUT array
// (over its window positions) for one pixel, and counted its operations once.
void build_window(const Layer& layer, const ActivationShape& in, const ActivationShape& out,
                  LayerData& data, PlanOps& ops) {
  detail::WindowPlan& g = data.plan.window;
  g.in_plane_bits = static_cast<uint32_t>(in.plane_bits());
  g.out_plane_bits = static_cast<uint32_t>(out.plane_bits());
  g.levels = static_cast<uint32_t>(in.levels);
  g.channels = static_cast<uint32_t>(in.channels);
  g.in_height = static_cast<uint32_t>(in.height);
  g.in_width = static_cast<uint32_t>(in.width);
  g.group = static_cast<uint32_t>(in.group);
  g.stride = static_cast<uint32_t>(layer.stride);
  g.kernel_h = static_cast<uint32_t>(layer.kernel_h);
  g.kernel_w = static_cast<uint32_t>(layer.kernel_w);
  g.out_height = static_cast<uint32_t>(out.height);
  g.out_width = static_cast<uint32_t>(out.width);
  const double pixels = static_cast<double>(out.height) * out.width;
  if (layer.kind == LayerKind::kMaxPool) {
    data.plan.kind = detail::kPoolStep;
    // Per window element after the first: 3 ops for the order, 2 per level for the update.
    ops.threshold +=
        pixels * in.channels * (layer.kernel_h * layer.kernel_w - 1) * (3.0 * in.levels + 1);
    return;
  }
  data.plan.kind = detail::kConvStep;
  g.window_size = static_cast<uint32_t>(layer.num_inputs);
  for (int c = 0; c < in.channels; ++c)
    for (int ky = 0; ky < layer.kernel_h; ++ky)
      for (int kx = 0; kx < layer.kernel_w; ++kx)
        data.window_base.push_back(static_cast<uint32_t>(in.index(c, ky, kx)));
  g.window_base = data.window_base.data();
  g.buffer_words =
      static_cast<uint32_t>(std::max(planes_of({in.levels, layer.num_inputs, 1, 1, 1}),
                                     planes_of({out.levels, layer.num_outputs, 1, 1, 1})));
  ops.lut *= pixels;
  ops.popcount *= pixels;
  ops.accumulate *= pixels;
  ops.threshold *= pixels;
}

// Persistent workers that wait passively (a busy-waiting pool stalls a hyperthread sibling).
class WorkerPool {
 public:
  explicit WorkerPool(int workers) {
    for (int id = 1; id < workers; ++id) threads_.emplace_back([this, id] { loop(id); });
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& t : threads_) t.join();
  }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs fn(ctx, w) for w in [0, n), n <= workers; the caller runs w = 0.
  void run(int n, void (*fn)(void*, int), void* ctx) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = fn;
      ctx_ = ctx;
      active_ = n;
      pending_ = n - 1;
      ++generation_;
    }
    start_.notify_all();
    fn(ctx, 0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  void loop(int id) {
    uint64_t seen = 0;
    for (;;) {
      void (*fn)(void*, int) = nullptr;
      void* ctx = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        start_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        if (id >= active_) continue;
        fn = fn_;
        ctx = ctx_;
      }
      fn(ctx, id);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        --pending_;
      }
      done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::vector<std::thread> threads_;
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  uint64_t generation_ = 0;
  int active_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

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
  int threads = 1;
  int num_pixels = 0;
  int num_classes = 0;
  std::vector<LayerData> layers;
  std::vector<LayerPlan> layer_plans;
  detail::ModelPlan plan{};
  std::vector<AlignedBuffer> memory;
  std::vector<detail::JitLayer> generated;
  std::vector<detail::Workspace> workspaces;
  PlanOps ops;
  std::unique_ptr<WorkerPool> pool;
  mutable std::mutex run_mutex;
};

CompiledModel::CompiledModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledModel::CompiledModel(CompiledModel&&) noexcept = default;
CompiledModel& CompiledModel::operator=(CompiledModel&&) noexcept = default;
CompiledModel::~CompiledModel() = default;

CompiledModel CompiledModel::compile(const Model& model, const EngineOptions& options) {
  validate(model);
  if (options.threads < 1 || options.threads > 256)
    throw Error(fmt::format("threads = {} is out of range 1..256", options.threads));
  auto impl = std::make_unique<Impl>();
  impl->isa = resolve(options.isa);
  impl->kernels = &kernels_for(impl->isa);
  impl->threads = options.threads;
  impl->num_pixels = model.input.num_pixels();
  impl->num_classes = model.num_classes;
  const int bits = impl->kernels->word_bits;
  const OpCosts cost = op_costs(impl->isa);

  detail::EncodePlan& enc = impl->plan.encode;
  enc.num_pixels = static_cast<uint32_t>(impl->num_pixels);
  enc.num_thresholds = static_cast<uint32_t>(model.input.thresholds.size());
  for (size_t j = 0; j < model.input.thresholds.size() && j < 8; ++j)
    enc.thresholds[j] = model.input.thresholds[j];

  const std::vector<ActivationShape> shapes = infer_shapes(model);
  size_t max_planes = 0;
  for (size_t i = 0; i + 1 < shapes.size(); ++i)
    max_planes = std::max<size_t>(max_planes, planes_of(shapes[i]));
  size_t max_scratch = 8;
  size_t max_partial = 0;  // accumulators kept between the levels of a layer
  size_t max_window = 0;   // words of a conv layer's window or pixel buffer
  const size_t n_layers = model.layers.size();
  impl->layers.resize(n_layers);
  std::vector<PlanOps> layer_ops(n_layers);
  for (size_t i = 0; i < n_layers; ++i) {
    LayerData& data = impl->layers[i];
    const Layer& layer = model.layers[i];
    if (layer.has_luts()) build_layer(layer, bits, cost, data, layer_ops[i], max_scratch);
    if (layer.kind != LayerKind::kLutDense)
      build_window(layer, shapes[i], shapes[i + 1], data, layer_ops[i]);
    LayerPlan& p = data.plan;
    max_partial =
        std::max(max_partial, static_cast<size_t>(plane_class(p.acc_bits)) * p.num_outputs);
    max_window = std::max<size_t>(max_window, p.window.buffer_words);
  }
  // Code generation from the last layer back: a layer writes complement planes only when the
  // next one runs the generic dense kernel (whose leaves read them; a conv layer makes its own
  // complements when it gathers its window).
  for (size_t i = n_layers; i-- > 0;) {
    LayerPlan& p = impl->layers[i].plan;
    const bool next_reads_complements = i + 1 < n_layers &&
                                        impl->layers[i + 1].plan.kind == detail::kDenseStep &&
                                        !impl->layers[i + 1].plan.jit;
    p.window.write_complements = next_reads_complements;
    p.write_complements = p.kind == detail::kDenseStep && next_reads_complements;
    if (p.kind == detail::kPoolStep) continue;
    if (impl->isa == Isa::kAvx512 && options.generate_code) {
      const size_t stride = p.kind == detail::kConvStep ? p.window.buffer_words : max_planes;
      detail::JitLayer jit =
          detail::jit_avx512_layer(model.layers[i], static_cast<int>(p.acc_bits),
                                   stride * (bits / 8), p.compare, p.write_complements);
      if (jit.fn) {
        p.jit = jit.fn;
        const double repeats = pixels_of(p);
        layer_ops[i] = {jit.lut_ops * repeats, jit.adder_ops * repeats, 0,
                        jit.threshold_ops * repeats};
        impl->generated.push_back(std::move(jit));
      }
    }
    p.window.gather_complements = p.kind == detail::kConvStep && !p.jit;
  }
  for (size_t i = 0; i < n_layers; ++i) {
    LayerPlan& p = impl->layers[i].plan;
    if (p.kind != detail::kPoolStep && !p.jit && !p.write_complements)  // counted by build_layer
      layer_ops[i].threshold -= cost.not_ * p.out_levels * p.num_outputs * pixels_of(p);
    if (p.window.write_complements)
      layer_ops[i].threshold += cost.not_ * p.window.levels * p.window.out_plane_bits;
    if (p.window.gather_complements)
      layer_ops[i].threshold += cost.not_ * p.window.levels * p.window.window_size *
                                p.window.out_height * p.window.out_width;
    impl->ops.lut += layer_ops[i].lut;
    impl->ops.popcount += layer_ops[i].popcount;
    impl->ops.accumulate += layer_ops[i].accumulate;
    impl->ops.threshold += layer_ops[i].threshold;
    impl->layer_plans.push_back(p);
  }
  const LayerPlan& last = impl->layer_plans.back();
  enc.write_complements =
      impl->layer_plans.front().kind == detail::kDenseStep && !impl->layer_plans.front().jit;
  if (enc.write_complements) impl->ops.threshold += cost.not_ * model.input.num_bits();
  impl->plan.layers = impl->layer_plans.data();
  impl->plan.num_layers = static_cast<uint32_t>(impl->layer_plans.size());
  impl->plan.num_classes = static_cast<uint32_t>(model.num_classes);
  impl->plan.max_scratch = static_cast<uint32_t>(max_scratch);
  impl->plan.buffer_words = static_cast<uint32_t>(max_planes);
  // Generated code runs each output over a group of chunks (its loop then fits the op cache);
  // the group's plane buffers must still fit the core's L2.
  const size_t group =
      impl->generated.empty()
          ? 1
          : std::clamp<size_t>(kGroupBytes / (max_planes * bits / 8), 1, kMaxGroupChunks);
  impl->plan.group_chunks = static_cast<uint32_t>(group);

  const size_t word_bytes = static_cast<size_t>(bits) / 8;
  for (int t = 0; t < options.threads; ++t) {
    detail::Workspace ws{};
    auto take = [&](size_t bytes) {
      impl->memory.emplace_back(bytes);
      return impl->memory.back().data;
    };
    ws.buffers[0] = take(group * max_planes * word_bytes);
    ws.buffers[1] = take(group * max_planes * word_bytes);
    ws.scratch = take(max_scratch * word_bytes);
    ws.acc = take(group * last.num_outputs * last.acc_bits * word_bytes);
    ws.partial = take(max_partial * word_bytes);
    ws.window = take(group * max_window * word_bytes);
    ws.pixel = take(group * max_window * word_bytes);
    const size_t blocks = (static_cast<size_t>(impl->num_pixels) + 63) / 64;
    ws.rows = static_cast<uint64_t*>(take(64 * blocks * enc.num_thresholds * sizeof(uint64_t)));
    impl->workspaces.push_back(ws);
  }
  if (options.threads > 1) impl->pool = std::make_unique<WorkerPool>(options.threads);
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
