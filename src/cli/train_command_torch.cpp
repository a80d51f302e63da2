// lutnet train: the full LUTNet schedule from a dataset to a model file and its XNOR baseline.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/command_registry.hpp"
#include "cli/train_flags.hpp"
#include "core/atomic_file.hpp"
#include "train/config.hpp"
#include "train/trainer.hpp"

namespace lutnet::cli {
namespace {

void add_train(CLI::App& app) {
  auto flags = std::make_shared<TrainFlags>();
  auto* cmd = app.add_subcommand(
      "train",
      "Train a LUTNet network (MLP or conv): BNN -> prune -> retrain -> logic expansion -> LUT "
      "training. Writes "
      "OUT/model.json (LUTNet), OUT/baseline.json (the pruned BNN as XNOR connections), "
      "OUT/checkpoint.pt, OUT/train_log.json and OUT/summary.json.");
  add_training_options(cmd, flags);
  auto baseline_only = std::make_shared<bool>(false);
  cmd->add_flag("--baseline-only", *baseline_only,
                "Stop after the retrain stage: writes OUT/baseline.json (the pruned BNN) and no "
                "LUTNet model");
  cmd->callback([flags, baseline_only] {
    const auto config = build_config(*flags);
    tune_allocator_for_training();
    if (!flags->save_config.empty()) {
      write_file_atomically(flags->save_config, train::config_to_json(config) + "\n");
      return;
    }
    train::RunOptions options;
    options.out_dir = flags->out_dir;
    options.resume = flags->resume;
    options.progress = &std::cout;
    options.baseline_only = *baseline_only;
    const auto r = train::run_training(config, options);
    if (options.baseline_only) {
      std::cout << fmt::format(
          "\nsummary ({:.1f} s)\n  baseline test accuracy {:.2f}% (pruned BNN, XNOR), validation "
          "{:.2f}%\n  file: {}\n",
          r.seconds, 100 * r.baseline_test_accuracy, 100 * r.baseline_validation_accuracy,
          r.baseline_path.string());
      return;
    }
    std::cout << fmt::format(
        "\nsummary ({:.1f} s)\n"
        "  LUTNet   test accuracy {:.2f}% (exported model file), validation "
        "{:.2f}%\n"
        "  baseline test accuracy {:.2f}% (pruned BNN, XNOR), validation {:.2f}%\n"
        "  float/integer prediction agreement on test: {:.4f}%\n"
        "  files: {} {} {}\n",
        r.seconds, 100 * r.test_accuracy, 100 * r.validation_accuracy,
        100 * r.baseline_test_accuracy, 100 * r.baseline_validation_accuracy,
        100 * r.hard_float_agreement, r.model_path.string(), r.baseline_path.string(),
        r.log_path.string());
  });
}

const CommandRegistration kTrainRegistration(10, add_train);

}  // namespace
}  // namespace lutnet::cli
