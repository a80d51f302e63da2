#pragma once
// The LUTNet schedule (DESIGN.md §2): BNN -> prune -> retrain with binary weights -> logic
// expansion -> real-valued LUT phase -> binary LUT phase with frozen level magnitudes. Checkpoints
// after every epoch (atomically) and resumes a killed run; picks each stage's best epoch on the
// validation split.
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>

#include "core/model.hpp"
#include "data/dataset.hpp"
#include "train/config.hpp"

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

// Loads the datasets a config names, with the validation split held out of the training set.
struct TrainingData {
  Dataset train, validation, test;
};
TrainingData load_training_data(const TrainConfig& config);

// Input encoding of a config for a dataset shape.
InputEncoding input_encoding(const TrainConfig& config, const std::vector<int>& shape);

// The network a config describes for an input encoding (conv layers see the encoded image as
// C*T x H x W planes) and a number of classes, initialised from the config's seed.
class Network;
Network make_network(const TrainConfig& config, const InputEncoding& encoding, int64_t num_classes);
// Logic expansion of the config's LUT layers (tiled layers with its tiled K and N).
void expand_lut_layers(Network& net, const TrainConfig& config);

// Encodes images to +-1 floats [N, bits] (the training view of the model's input encoding).
torch::Tensor encode_images(const Dataset& data, const InputEncoding& encoding);

}  // namespace lutnet::train
