#pragma once
// The training flags shared by `lutnet train` and `lutnet flow`.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "train/config.hpp"

namespace lutnet::cli {

struct TrainFlags {
  std::string preset = "quick";
  std::string config_file;
  std::string out_dir = "runs/latest";
  bool resume = false;
  std::string save_config;
  // Overrides (applied when given).
  std::string dataset, data_dir, device;
  std::vector<int> hidden, lut_layers, epochs;
  std::vector<double> keep;
  int k = 0, levels = 0, input_bits = 0, validation = -1, train_limit = -1, test_limit = -1,
      threads = 0, batch = 0;
  int64_t seed = -1;
  double lr = 0;
  double final_lr_ratio = 0;
  double dropout = -1;
  int augment_shift = -1;
  std::string recovery;         // on|off
  std::string input_selection;  // random|learned
  std::string conv;             // compact conv spec (train::parse_conv_spec); "none" for an MLP
  std::string flip;             // on|off
  std::string tiled;            // train::parse_tile_spec; "none" for no tiled layers
  std::vector<int> kn;          // K,N of tiled LUT layers
};

// Preset, then config file, then flags.
train::TrainConfig build_config(const TrainFlags& f);

// Keeps freed tensor memory in the process (glibc malloc otherwise unmaps every large block and
// page-faults it back in on the next step; measured 25-30% of a conv training step here).
// Process-wide, so it lives in the CLI rather than in the training library.
void tune_allocator_for_training();

// Adds every training option to `cmd`, bound to `flags`.
void add_training_options(CLI::App* cmd, const std::shared_ptr<TrainFlags>& flags);

}  // namespace lutnet::cli
