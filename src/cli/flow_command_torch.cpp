// lutnet flow: train (LUTNet, then its baseline at matched accuracy) -> for both designs
// hdl -> verify -> synth -> power (flows/design_comparison.hpp), and one comparison table (also
// written as OUT/flow.json).
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/command_registry.hpp"
#include "cli/train_flags.hpp"
#include "core/atomic_file.hpp"
#include "core/model_io.hpp"
#include "core/read_file.hpp"
#include "data/dataset.hpp"
#include "flows/design_comparison.hpp"
#include "train/config.hpp"
#include "train/matched_baseline.hpp"
#include "train/trainer.hpp"

namespace lutnet::cli {
namespace {

namespace fs = std::filesystem;

struct FlowFlags {
  std::string from;  // existing run directory: skip training
  flows::DesignFlowOptions design;
  train::MatchedBaselineOptions baseline;
  bool same_keep = false;
};

// The finished run's own config says which test set belongs to its models.
train::TrainConfig config_of_run(const fs::path& run_dir, const std::string& data_dir) {
  const auto config_path = run_dir / "config.json";
  const auto text = read_text_file(config_path, "run config (is --from a finished run?)");
  auto config = train::config_from_json(text, config_path.string(), train::TrainConfig{});
  config.data_dir = data_dir;
  return config;
}

void add_flow_options(CLI::App* cmd, FlowFlags& flags) {
  cmd->add_option("--from", flags.from,
                  "Use the LUTNet model (model.json) of this finished run instead of training");
  cmd->add_option("--baseline-keep-scales", flags.baseline.keep_scales,
                  "Baseline keep fractions to try, as multiples of LUTNet's (in increasing "
                  "order; 1 is the LUTNet run's own baseline): the first whose validation "
                  "accuracy comes within --match-tolerance of LUTNet's is compared")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--match-tolerance", flags.baseline.tolerance,
                  "Validation accuracy (a fraction) the baseline may fall short of LUTNet's")
      ->capture_default_str();
  cmd->add_flag("--same-keep", flags.same_keep,
                "Compare with the baseline of the LUTNet run's own keep fraction (no matching)");
  auto& d = flags.design;
  cmd->add_option(
         "--clock-mhz", d.clock_mhz,
         "Design clock for the throughput column (one image per clock, or per frame of pixels for "
         "conv models); not a timing result")
      ->capture_default_str();
  cmd->add_option("--verify-limit", d.verify_limit,
                  "Verify only the first N test images (default: all; conv models: every stage "
                  "alone on all of them, the assembled design on the first 100)");
  cmd->add_flag("--abc9", d.abc9, "Synthesize with synth_xilinx -abc9");
  cmd->add_flag("!--no-power", d.power,
                "Skip lutnet power (energy per frame from the gate-level netlist)");
  cmd->add_option("--power-limit", d.power_limit,
                  "Frames through the gate-level simulation (default 1000; conv models: at most "
                  "100)");
}

void run_flow(const TrainFlags& train_flags, FlowFlags& flags) {
  const auto start = std::chrono::steady_clock::now();
  auto config = build_config(train_flags);
  tune_allocator_for_training();
  const fs::path run_dir =
      flags.from.empty() ? fs::path(train_flags.out_dir) : fs::path(flags.from);
  if (!flags.from.empty()) {
    config = config_of_run(run_dir, config.data_dir);
  } else {
    train::RunOptions options;
    options.out_dir = run_dir;
    options.resume = train_flags.resume;
    options.progress = &std::cout;
    train::run_training(config, options);
  }
  flows::DesignComparison comparison;
  fs::path baseline_path = run_dir / "baseline.json";
  if (flags.same_keep) {
    comparison.matching = "baseline at LUTNet's keep fraction (--same-keep: no accuracy matching)";
  } else {
    flags.baseline.progress = &std::cout;
    const auto chosen = train::train_matched_baseline(config, run_dir, flags.baseline);
    baseline_path = chosen.model_path;
    comparison.matching = chosen.explanation;
    std::cout << comparison.matching << std::endl;
  }
  const Model lutnet = load_model(run_dir / "model.json");
  const Model baseline = load_model(baseline_path);
  const Dataset test = train::load_training_data(config).test;
  flags.design.progress = &std::cout;
  comparison.clock_mhz = flags.design.clock_mhz;
  comparison.lutnet = flows::build_design("lutnet", lutnet, test, run_dir, flags.design);
  comparison.baseline = flows::build_design("baseline", baseline, test, run_dir, flags.design);
  std::cout << "\n" << comparison.table();
  auto report = comparison.to_json();
  report["baseline_model"] = baseline_path.string();
  report["seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_file_atomically(run_dir / "flow.json", report.dump(2));
  std::cout << "wrote " << (run_dir / "flow.json").string() << "\n";
  comparison.check();
}

void add_flow(CLI::App& app) {
  auto train_flags = std::make_shared<TrainFlags>();
  train_flags->preset = "demo";  // the comparison the paper makes, in minutes
  auto flags = std::make_shared<FlowFlags>();
  auto* cmd = app.add_subcommand(
      "flow",
      "Train (or reuse with --from) a LUTNet model and its XNOR baseline at matched accuracy, "
      "then for both: write Verilog, verify it with Verilator on the test set, synthesize with "
      "Yosys, estimate energy, and print one comparison table (also OUT/flow.json).");
  add_training_options(cmd, train_flags);
  add_flow_options(cmd, *flags);
  cmd->callback([train_flags, flags] { run_flow(*train_flags, *flags); });
}

const CommandRegistration kFlowRegistration(80, add_flow);

}  // namespace
}  // namespace lutnet::cli
