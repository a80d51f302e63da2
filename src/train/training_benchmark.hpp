#pragma once
// Training-speed measurements at a given batch size, on random data of the configured shape:
// seconds per epoch of the BNN stage and of the binary LUT stage, with the fused LUT function and
// with the naive 2^K-product form.
#include <ostream>
#include <vector>

#include "train/config.hpp"

namespace lutnet::train {

struct TrainingSpeed {
  double bnn_step_seconds = 0;
  double lut_step_seconds = 0;
  double naive_lut_step_seconds = 0;  // 0 when skipped
  int64_t steps_per_epoch = 0;
  int64_t lut_connections = 0;
};

// Times `steps` optimizer steps of each kind (after one warm-up step), for a network shaped by
// `config` (hidden widths, K, L, keep fractions) with `num_inputs` input bits, `num_classes`
// outputs and `train_images` images per epoch.
TrainingSpeed measure_training_speed(const TrainConfig& config, int64_t num_inputs,
                                     int64_t num_classes, int64_t train_images, int steps,
                                     bool include_naive);

// Seconds per optimizer step of each of the four stages (bnn, retrain, lut_real, lut_binary) for
// the network a config describes (conv or MLP) on random images of `image_shape`, with the
// config's augmentation, batch size and device.
struct StageSpeeds {
  double step_seconds[4] = {0, 0, 0, 0};
  int64_t steps_per_epoch = 0;
  int64_t lut_connections = 0;
  int64_t weights = 0;  // latent weights of the whole network
};
StageSpeeds measure_stage_speeds(const TrainConfig& config, const std::vector<int>& image_shape,
                                 int64_t num_classes, int64_t train_images, int steps);

}  // namespace lutnet::train
