// `lutnet bench MODEL`: one table of inference speed — the bit-sliced engine per ISA on 1 and 2
// threads, the scalar reference evaluator, LibTorch float inference of the trained network (when
// built with LibTorch and a checkpoint exists) and a lower bound: the plan's logic word operations
// per image divided by this machine's measured peak rate of such operations.
#include <fmt/format.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/command_registry.hpp"
#include "core/error.hpp"
#include "core/model_io.hpp"
#include "core/random_model.hpp"
#include "core/reference_evaluator.hpp"
#include "data/dataset.hpp"
#include "engine/engine.hpp"
#ifdef LUTNET_WITH_TORCH
#include "train/float_inference.hpp"
#endif

namespace lutnet::cli {
namespace {

struct BenchArgs {
  std::string model, dataset = "mnist", data_dir, checkpoint;
  size_t images = 10000;
  size_t reference_images = 200;
  size_t torch_images = 1000;
  int repeats = 5;
  bool random = false;
};

struct Row {
  std::string name;
  double ns_per_image = 0;      // wall clock, median over repeats
  double cpu_ns_per_image = 0;  // CPU time of all threads, median (0: not measured)
  int repeats = 0;
  std::string note;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

template <typename F>
double seconds_of(F&& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU seconds of the whole process: on a shared machine the wall clock also counts time this
// process waited for a CPU.
double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

Row time_engine(const Model& model, const Dataset& data, const engine::EngineOptions& options,
                int repeats, int64_t* correct) {
  const auto compiled = engine::CompiledModel::compile(model, options);
  const size_t n = data.size();
  std::vector<int32_t> labels(n);
  compiled.run(data.pixels.data(), n, labels.data(), nullptr);  // warm-up
  std::vector<double> ns, cpu_ns;
  for (int r = 0; r < repeats; ++r) {
    const double cpu0 = process_cpu_seconds();
    ns.push_back(seconds_of([&] { compiled.run(data.pixels.data(), n, labels.data(), nullptr); }) *
                 1e9 / static_cast<double>(n));
    cpu_ns.push_back((process_cpu_seconds() - cpu0) * 1e9 / static_cast<double>(n));
  }
  if (correct) {
    *correct = 0;
    for (size_t i = 0; i < n; ++i) *correct += labels[i] == data.labels[i];
  }
  // AVX2 and AVX-512 have code generators; the scalar kernel is generic only.
  const bool generic = compiled.isa() != engine::Isa::kScalar && compiled.generated_layers() == 0;
  return {fmt::format("engine {}{}, {} thread{}", compiled.isa_name(), generic ? " generic" : "",
                      options.threads, options.threads == 1 ? "" : "s"),
          median(ns), median(cpu_ns), repeats,
          compiled.generated_layers() > 0
              ? fmt::format("generated code: {} layers, {} KiB", compiled.generated_layers(),
                            compiled.generated_code_bytes() / 1024)
              : ""};
}

Row time_reference(const Model& model, const Dataset& data, size_t images, int repeats) {
  const size_t n = std::min(images, data.size());
  std::vector<double> ns, cpu_ns;
  for (int r = 0; r < repeats; ++r) {
    const double cpu0 = process_cpu_seconds();
    ns.push_back(seconds_of([&] {
                   for (size_t i = 0; i < n; ++i) (void)evaluate_reference(model, data.image(i));
                 }) *
                 1e9 / static_cast<double>(n));
    cpu_ns.push_back((process_cpu_seconds() - cpu0) * 1e9 / static_cast<double>(n));
  }
  return {"reference (scalar), 1 thread", median(ns), median(cpu_ns), repeats,
          fmt::format("first {} images", n)};
}

std::optional<Row> time_libtorch(const BenchArgs& args, const Dataset& data, int* threads_used,
                                 int64_t* correct, std::string* why_not) {
  std::filesystem::path checkpoint = args.checkpoint;
  if (checkpoint.empty()) {
    checkpoint = std::filesystem::path(args.model).parent_path() / "checkpoint.pt";
    if (!std::filesystem::exists(checkpoint)) {
      *why_not = "needs a checkpoint (--checkpoint PATH; no checkpoint.pt beside the model)";
      return std::nullopt;
    }
  } else if (!std::filesystem::exists(checkpoint)) {
    throw Error(fmt::format("--checkpoint {}: no such file", checkpoint.string()));
  }
#ifdef LUTNET_WITH_TORCH
  // One thread and all of them: on a loaded machine OpenMP's active waiting can make the
  // threaded run many times slower (measured: 84 against 1,489 images/s), so the faster counts.
  const int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const Dataset subset = take_first(data, args.torch_images);
  std::optional<Row> best;
  std::string other;
  for (int threads : cpus > 1 ? std::vector<int>{1, cpus} : std::vector<int>{1}) {
    const auto t = train::time_float_inference(checkpoint, subset, threads, args.repeats);
    Row row{fmt::format("LibTorch float, {} thread{}", threads, threads == 1 ? "" : "s"),
            t.ns_per_image, 0, args.repeats, ""};
    if (!best || row.ns_per_image < best->ns_per_image) {
      if (best)
        other =
            fmt::format("; {} thread(s): {:.0f} images/s", *threads_used, 1e9 / best->ns_per_image);
      best = row;
      *threads_used = threads;
      *correct = t.correct;
    } else {
      other = fmt::format("; {} thread(s): {:.0f} images/s", threads, 1e9 / row.ns_per_image);
    }
  }
  best->note = fmt::format("first {} images, {}{}", subset.size(), checkpoint.string(), other);
  return best;
#else
  (void)data;
  (void)threads_used;
  (void)correct;
  *why_not = "needs a LibTorch build (LUTNET_WITH_TORCH=ON)";
  return std::nullopt;
#endif
}

void run_bench(const BenchArgs& args) {
  const Model model = load_model(args.model);
  Dataset data;
  if (args.random) {
    data.name = "random";
    data.shape = model.input.shape;
    data.num_classes = model.num_classes;
    data.pixels = make_random_pixels(model, static_cast<int>(args.images), 1);
    data.labels.assign(args.images, 0);
  } else {
    data = load_named_dataset(
        args.dataset, DatasetPart::kTest,
        args.data_dir.empty() ? default_data_dir() : std::filesystem::path(args.data_dir));
    data = take_first(data, args.images);
    if (data.image_size() != static_cast<size_t>(model.input.num_pixels()))
      throw Error(fmt::format("{}: the model reads {} pixels per image but {} images have {}",
                              args.model, model.input.num_pixels(), data.name, data.image_size()));
  }
  const int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  fmt::print("bench {}: {} {} images, medians of {} repeats, {} logical CPUs\n", args.model,
             data.size(), data.name, args.repeats, cpus);

  std::vector<Row> rows;
  const engine::Isa best = engine::best_isa();
  int64_t engine_correct = 0;
  rows.push_back(time_engine(model, data, {best, 1}, args.repeats, &engine_correct));
  rows.push_back(time_engine(model, data, {best, 2}, args.repeats, nullptr));
  const double engine_ns = std::min(rows[0].ns_per_image, rows[1].ns_per_image);
  const double engine_cpu_ns = rows[0].cpu_ns_per_image;
  if (best != engine::Isa::kScalar)  // the generic kernel beside the generated code
    rows.push_back(time_engine(model, data, {best, 1, false}, args.repeats, nullptr));
  for (engine::Isa isa : engine::available_isas())
    if (isa != best) rows.push_back(time_engine(model, data, {isa, 1}, args.repeats, nullptr));
  rows.push_back(time_reference(model, data, args.reference_images, args.repeats));

  int torch_threads = 0;
  int64_t torch_correct = 0;
  std::string torch_missing;
  const auto torch_row = time_libtorch(args, data, &torch_threads, &torch_correct, &torch_missing);
  if (torch_row) rows.push_back(*torch_row);

  // Lower bound: logic word ops per image of the best plan over the machine's peak rate (the
  // larger of one thread and all threads together: hyperthreads share one core's ALUs).
  const auto plan = engine::CompiledModel::compile(model, {best, 1});
  double peak = 0;
  for (int t = 1; t <= std::min(cpus, 2); ++t)
    peak = std::max(peak, engine::measure_peak_word_ops(best, 0.3, t).word_ops_per_second);
  const double ops = plan.word_ops_per_image();
  const double bound_ns = ops / peak * 1e9;
  rows.push_back({"lower bound", bound_ns, 0, 0,
                  fmt::format("{:.0f} {}-bit word ops/image / {:.2f} G ops/s peak", ops,
                              plan.word_bits(), peak / 1e9)});

  fmt::print("{:<36} {:>12} {:>11} {:>11} {:>8}  {}\n", "", "images/s", "ns/image", "CPU ns/img",
             "repeats", "");
  for (const Row& r : rows)
    fmt::print("{:<36} {:>12.0f} {:>11.1f} {:>11} {:>8}  {}\n", r.name, 1e9 / r.ns_per_image,
               r.ns_per_image,
               r.cpu_ns_per_image > 0 ? fmt::format("{:.1f}", r.cpu_ns_per_image) : "-",
               r.repeats > 0 ? std::to_string(r.repeats) : "-", r.note);
  if (!torch_row) fmt::print("{:<32} {}\n", "LibTorch float", torch_missing);
  if (!args.random)
    fmt::print("engine accuracy {:.2f}% ({} / {})\n",
               100.0 * static_cast<double>(engine_correct) / static_cast<double>(data.size()),
               engine_correct, data.size());
  if (torch_row) {
    if (!args.random)
      fmt::print("LibTorch float correct: {} / {}\n", torch_correct,
                 std::min(args.torch_images, data.size()));
    fmt::print("engine / LibTorch float: {:.1f}x faster\n", torch_row->ns_per_image / engine_ns);
  }
  fmt::print(
      "engine vs lower bound: {:.2f}x the bound ({:.1f} vs {:.1f} ns/image; by CPU time "
      "{:.2f}x)\n",
      engine_ns / bound_ns, engine_ns, bound_ns, engine_cpu_ns / bound_ns);
}

void add_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Images/s of the engine, the reference and LibTorch float inference, and a lower "
      "bound from the machine's peak word-operation rate");
  cmd->add_option("MODEL", args->model, "Model file")->required();
  cmd->add_option("--images", args->images, "Images to time (default 10000)")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  cmd->add_flag("--random", args->random, "Random pixels instead of the dataset's test images");
  cmd->add_option("--dataset", args->dataset, "Named dataset (default mnist)");
  cmd->add_option("--data-dir", args->data_dir,
                  "Dataset directory (default $LUTNET_DATA_DIR or ./data)");
  cmd->add_option("--repeats", args->repeats, "Timed runs per row; medians are printed")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--reference-images", args->reference_images,
                  "Images timed for the (slow) reference evaluator (default 200)")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  cmd->add_option("--torch-images", args->torch_images,
                  "Images timed for LibTorch float inference (default 1000)")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  cmd->add_option("--checkpoint", args->checkpoint,
                  "LibTorch checkpoint of the same network (default: checkpoint.pt beside MODEL)");
  cmd->callback([args] { run_bench(*args); });
}

const CommandRegistration kBenchRegistration(60, add_bench);

}  // namespace
}  // namespace lutnet::cli
