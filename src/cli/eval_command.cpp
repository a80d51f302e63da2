// `lutnet eval MODEL`: accuracy, confusion matrix, throughput and per-layer statistics of a model
// on a dataset split, with the bit-sliced engine (default) or the scalar reference evaluator.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command_registry.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/model_io.hpp"
#include "core/reference_evaluator.hpp"
#include "core/seconds_since.hpp"
#include "data/dataset.hpp"
#include "engine/engine.hpp"

namespace lutnet::cli {
namespace {

struct EvalArgs {
  std::string model, dataset = "mnist", data_dir, split = "test", isa = "best", json;
  size_t limit = 0;
  int threads = 1;
  bool reference = false;
};

void check_compatible(const Model& model, const Dataset& data, const std::string& model_path) {
  const size_t pixels = static_cast<size_t>(model.input.num_pixels());
  if (data.image_size() != pixels)
    throw Error(fmt::format("{}: the model reads {} pixels per image but {} images have {}",
                            model_path, pixels, data.name, data.image_size()));
  if (data.num_classes > model.num_classes)
    throw Error(fmt::format("{}: the model has {} classes but {} has {}", model_path,
                            model.num_classes, data.name, data.num_classes));
}

void run_eval(const EvalArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  const Model model = load_model(args.model);
  DatasetPart part = DatasetPart::kTest;
  if (args.split == "train") {
    part = DatasetPart::kTrain;
  } else if (args.split != "test") {
    throw Error(fmt::format("--split {}: expected test or train", args.split));
  }
  Dataset data = load_named_dataset(
      args.dataset, part,
      args.data_dir.empty() ? default_data_dir() : std::filesystem::path(args.data_dir));
  if (args.limit > 0 && args.limit < data.size()) data = take_first(data, args.limit);
  check_compatible(model, data, args.model);
  const size_t count = data.size();

  std::vector<int32_t> labels(count);
  std::string evaluator = "reference";
  double compile_seconds = 0;
  const auto run_start = std::chrono::steady_clock::now();
  double run_seconds = 0;
  if (args.reference) {
    for (size_t i = 0; i < count; ++i) labels[i] = evaluate_reference(model, data.image(i)).label;
    run_seconds = seconds_since(run_start);
  } else {
    const engine::CompiledModel compiled =
        engine::CompiledModel::compile(model, {engine::parse_isa(args.isa), args.threads});
    compile_seconds = seconds_since(run_start);
    const auto t0 = std::chrono::steady_clock::now();
    compiled.run(data.pixels.data(), count, labels.data(), nullptr);
    run_seconds = seconds_since(t0);
    evaluator = fmt::format("engine {}, {} thread{}", compiled.isa_name(), args.threads,
                            args.threads == 1 ? "" : "s");
  }

  const int classes = model.num_classes;
  std::vector<std::vector<int64_t>> confusion(static_cast<size_t>(classes),
                                              std::vector<int64_t>(static_cast<size_t>(classes)));
  int64_t correct = 0;
  for (size_t i = 0; i < count; ++i) {
    ++confusion[data.labels[i]][static_cast<size_t>(labels[i])];
    correct += labels[i] == data.labels[i];
  }
  const double accuracy = count ? static_cast<double>(correct) / static_cast<double>(count) : 0;
  const double images_per_second = run_seconds > 0 ? static_cast<double>(count) / run_seconds : 0;
  const auto stats = engine::layer_stats(model);

  fmt::print("eval {} on {} {} ({} images), {}\n", args.model, data.name, args.split, count,
             evaluator);
  fmt::print("accuracy {:.2f}% ({} / {})\n", 100 * accuracy, correct, count);
  fmt::print("time {:.4f} s ({:.0f} images/s, {:.1f} ns/image); compile {:.4f} s, total {:.3f} s\n",
             run_seconds, images_per_second,
             count ? run_seconds * 1e9 / static_cast<double>(count) : 0.0, compile_seconds,
             seconds_since(start));
  fmt::print("confusion matrix (rows: true class, columns: predicted)\n     ");
  for (int c = 0; c < classes; ++c) fmt::print(" {:>6}", c);
  fmt::print("\n");
  for (int t = 0; t < classes; ++t) {
    fmt::print("{:>5}", t);
    for (int c = 0; c < classes; ++c) fmt::print(" {:>6}", confusion[t][c]);
    fmt::print("\n");
  }
  fmt::print(
      "layers (LUTs per level = kept connections; 'ignore k' = tables whose function does not "
      "depend on LUT input k)\n");
  fmt::print("{:>5} {:<10} {:>7} {:>6} {:>7} {:>6} {:>2} {:>9} {:>9} {:>11} {:>14}  {}\n", "layer",
             "kind", "inputs", "levels", "outputs", "pixels", "k", "kept", "fraction",
             "inputs read", "ignoring some", "ignore k=0..");
  for (size_t li = 0; li < stats.size(); ++li) {
    const auto& s = stats[li];
    if (s.kind == LayerKind::kMaxPool) {
      fmt::print("{:>5} {:<10} {:>7} {:>6} {:>7}\n", li, layer_kind_name(s.kind), s.inputs,
                 s.input_levels, s.outputs);
      continue;
    }
    std::string ignored;
    for (size_t v : s.tables_ignoring_input) ignored += fmt::format("{} ", v);
    fmt::print("{:>5} {:<10} {:>7} {:>6} {:>7} {:>6} {:>2} {:>9} {:>9.4f} {:>11} {:>7}/{:<7} {}\n",
               li, layer_kind_name(s.kind), s.inputs, s.input_levels, s.outputs, s.pixels, s.k,
               s.connections, s.fraction_kept, s.distinct_inputs_read, s.tables_ignoring_some,
               s.tables, ignored);
  }

  if (!args.json.empty()) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& s : stats)
      layers.push_back({{"kind", layer_kind_name(s.kind)},
                        {"pixels", s.pixels},
                        {"inputs", s.inputs},
                        {"input_levels", s.input_levels},
                        {"outputs", s.outputs},
                        {"k", s.k},
                        {"kept_connections", s.connections},
                        {"luts_per_level", s.connections},
                        {"fraction_kept", s.fraction_kept},
                        {"distinct_inputs_read", s.distinct_inputs_read},
                        {"tables", s.tables},
                        {"tables_ignoring_some_input", s.tables_ignoring_some},
                        {"tables_ignoring_input", s.tables_ignoring_input}});
    const nlohmann::json j = {{"model", args.model},
                              {"dataset", data.name},
                              {"split", args.split},
                              {"images", count},
                              {"evaluator", evaluator},
                              {"threads", args.threads},
                              {"correct", correct},
                              {"accuracy", accuracy},
                              {"confusion", confusion},
                              {"run_seconds", run_seconds},
                              {"compile_seconds", compile_seconds},
                              {"images_per_second", images_per_second},
                              {"layers", layers}};
    write_file_atomically(args.json, j.dump(2) + "\n");
  }
}

void add_eval(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "Accuracy, confusion matrix, speed and per-layer statistics of a model on a dataset");
  cmd->add_option("MODEL", args->model, "Model file")->required();
  cmd->add_option("--dataset", args->dataset, "mnist, fashion-mnist or cifar10");
  cmd->add_option("--data-dir", args->data_dir,
                  "Dataset directory (default $LUTNET_DATA_DIR or ./data)");
  cmd->add_option("--split", args->split, "test or train");
  cmd->add_option("--limit", args->limit, "Only the first N images");
  cmd->add_flag("--reference", args->reference,
                "Use the scalar reference evaluator (one thread) instead of the engine");
  cmd->add_option("--threads", args->threads, "Engine threads")->check(CLI::Range(1, 256));
  cmd->add_option("--isa", args->isa, "Engine kernels: scalar, avx2, avx512 or best");
  cmd->add_option("--json", args->json, "Also write the numbers as JSON");
  cmd->callback([args] { run_eval(*args); });
}

const CommandRegistration kEvalRegistration(20, add_eval);

}  // namespace
}  // namespace lutnet::cli
