// lutnet sweep: a grid of training configurations -> LUTNet and baseline for each -> synthesis ->
// verification of the front points -> OUT/sweep.json, sweep.svg, sweep.html (flows/sweep.hpp).
// This file is the LibTorch side: it turns a grid point into a config and trains it.
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/command_registry.hpp"
#include "cli/train_flags.hpp"
#include "core/read_file.hpp"
#include "flows/sweep.hpp"
#include "train/sweep_training.hpp"

namespace lutnet::cli {
namespace {

namespace fs = std::filesystem;

struct SweepFlags {
  std::string grid = "mnist-frontier";
  std::string verify = "front";
  train::SweepTrainingOptions training;
  flows::SweepOptions options;
};

flows::SweepGrid load_grid(const std::string& grid) {
  for (const auto& name : flows::builtin_sweep_grid_names())
    if (grid == name) return flows::builtin_sweep_grid(name);
  return flows::parse_sweep_grid(read_text_file(grid, "sweep grid"), grid);
}

void run_sweep_command(SweepFlags& flags) {
  const flows::SweepGrid grid = load_grid(flags.grid);
  // Every point's config is checked before the first one trains.
  for (const auto& p : grid.points) train::sweep_point_config(grid, p, flags.training);
  tune_allocator_for_training();
  flags.options.verify = flows::parse_sweep_verify(flags.verify);
  flags.options.progress = &std::cout;
  flags.training.progress = &std::cout;
  flags.options.synth.progress = &std::cout;
  std::cout << fmt::format("sweep '{}': {} points, each trained as LUTNet and baseline, into {}\n",
                           flags.grid, grid.points.size(), flags.options.out_dir.string());
  const auto train = [&flags](const flows::SweepGrid& g, const flows::SweepGridPoint& p,
                              const fs::path& dir) {
    return train::train_sweep_point(g, p, dir, flags.training);
  };
  const auto result = flows::run_sweep(grid, train, flags.options);
  std::cout << fmt::format("wrote {}, {} and {}\n", result.json_path.string(),
                           result.svg_path.string(), result.html_path.string());
}

void add_sweep(CLI::App& app) {
  auto flags = std::make_shared<SweepFlags>();
  auto* cmd = app.add_subcommand(
      "sweep",
      "Train a grid of configurations (each as LUTNet and as its pruned-BNN baseline), "
      "synthesize every design, verify the ones on the accuracy-vs-LUT fronts, and write "
      "OUT/sweep.json, OUT/sweep.svg and a self-contained OUT/sweep.html. Resumes point by point.");
  cmd->add_option("--grid", flags->grid,
                  "A grid file (JSON: preset, base, axes, points; docs/training.md) or a built-in "
                  "grid: mnist-frontier, tiny")
      ->capture_default_str();
  cmd->add_option("--out", flags->options.out_dir, "Output directory")->capture_default_str();
  cmd->add_option("--verify", flags->verify,
                  "Which designs to verify against the reference on the whole test set: front "
                  "(both Pareto fronts), all or none")
      ->capture_default_str();
  cmd->add_option("--jobs", flags->options.synth.jobs, "Yosys runs at a time")
      ->capture_default_str();
  cmd->add_option("--data-dir", flags->training.data_dir, "Dataset directory (default: data/)");
  cmd->add_option("--threads", flags->training.threads,
                  "Training threads (default: the grid's config; part of each point's config, "
                  "so keep it when resuming)");
  cmd->add_option("--title", flags->options.title, "Title of the HTML report")
      ->capture_default_str();
  cmd->callback([flags] { run_sweep_command(*flags); });
}

const CommandRegistration kSweepRegistration(85, add_sweep);

}  // namespace
}  // namespace lutnet::cli
