#pragma once
// Training checkpoints: the network, the best-epoch snapshot, the optimizer and the schedule
// position, written atomically (temporary file, then rename).
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "train/network.hpp"

namespace lutnet::train {

struct SchedulePosition {
  int64_t stage = 0;        // 0 bnn, 1 retrain, 2 lut_real, 3 lut_binary, 4 finished
  int64_t epochs_done = 0;  // within the stage
  int64_t step = 0;         // optimizer steps within the stage (learning-rate decay)
  bool entered = false;     // the stage's structural transition has been applied
  double best_validation = -1;
  double baseline_validation = -1;
};

using Snapshot = std::map<std::string, torch::Tensor>;

Snapshot take_snapshot(Network& network);
void restore_snapshot(Network& network, const Snapshot& snapshot);

void save_checkpoint(const std::filesystem::path& path, Network& network, const Snapshot& best,
                     const SchedulePosition& position, torch::optim::Optimizer* optimizer,
                     const std::string& config_json, const std::string& log_json);

struct LoadedCheckpoint {
  SchedulePosition position;
  Snapshot best;
  std::string config_json;
  std::string log_json;
  bool has_optimizer = false;
  torch::serialize::InputArchive optimizer;
};

// Loads tensors into `network` (restoring LUT structure and frozen ratios where saved).
LoadedCheckpoint load_checkpoint(const std::filesystem::path& path, Network& network);

}  // namespace lutnet::train
