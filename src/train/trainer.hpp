#pragma once
// The LUTNet schedule (DESIGN.md §2): BNN -> prune -> retrain with binary weights -> logic
// expansion -> real-valued LUT phase -> binary LUT phase with frozen level magnitudes. Checkpoints
// after every epoch (atomically) and resumes a killed run; picks each stage's best epoch on the
// validation split.
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>

#include "core/model.hpp"
#include "data/dataset.hpp"
#include "train/config.hpp"
#include "train/training_data.hpp"

namespace lutnet::train {

struct RunOptions {
  std::filesystem::path out_dir = "runs/latest";
  bool resume = false;
  std::ostream* progress = nullptr;  // per-epoch lines; nullptr for silence
  // Stop after this many epochs in this invocation, as if killed (tests of --resume); -1: never.
  int64_t stop_after_epochs = -1;
  // Stop after the retrain stage: only the baseline (baseline.json, summary.json) is written.
  bool baseline_only = false;
};

struct TrainResult {
  bool finished = false;                // false when stopped early by RunOptions::stop_after_epochs
  std::filesystem::path model_path;     // LUTNet model file
  std::filesystem::path baseline_path;  // the pruned BNN after its retrain, as k = 1 XNOR model
  std::filesystem::path checkpoint_path;
  std::filesystem::path log_path;
  Model model;
  Model baseline;
  double validation_accuracy = 0;           // float forward, best binary-LUT epoch
  double baseline_validation_accuracy = 0;  // float forward, best retrain epoch
  double test_accuracy = 0;                 // exported model, engine (bit-exact with the reference)
  double baseline_test_accuracy = 0;
  double hard_float_agreement = 0;  // fraction of test predictions where float == integer net
  double seconds = 0;
};

TrainResult run_training(const TrainConfig& config, const RunOptions& options);

// Whether `dir` holds a finished run of exactly `config` (its summary.json, and its config.json
// equal to config_to_json(config)): callers reuse it instead of training again.
bool is_finished_run(const TrainConfig& config, const std::filesystem::path& dir);

}  // namespace lutnet::train
