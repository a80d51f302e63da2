#pragma once
// Everything that defines a training run. A run is reproducible from its config and seed: the
// same config gives the same model file, byte for byte.
#include <cstdint>
#include <string>
#include <vector>

namespace lutnet::train {

struct StageConfig {
  int epochs = 1;
  double learning_rate = 0.01;
  double lr_decay = 1e-6;  // Keras-style time decay: lr / (1 + decay * step)
  int batch_size = 100;
  // Extra exponential decay over the stage: the last step runs at learning_rate * final_lr_ratio
  // (1 = off, the published schedule).
  double final_lr_ratio = 1.0;
};

struct TrainConfig {
  // Data.
  std::string dataset = "mnist";  // mnist | fashion-mnist | cifar10 | synthetic
  std::string data_dir;           // empty: default_data_dir()
  int validation_images = 5000;
  int train_limit = 0;  // 0: all training images (for quick experiments and tests)
  int test_limit = 0;   // 0: the whole test set
  int input_bits = 1;   // thermometer bits per pixel (1 = plain threshold at 128)

  // Network: hidden widths; the output layer has one neuron per class.
  std::vector<int> hidden = {256, 256, 256, 256};
  int levels = 2;          // residual activation levels L (1 or 2)
  int level_ratio_bits = 2;  // after the BNN stage m_l/m_0 is fixed to a multiple of 2^-bits
  int k = 4;               // LUT inputs
  // Which layers become LUT layers (index into all layers, output layer last). Empty: every layer
  // except the output layer.
  std::vector<int> lut_layers;
  // Fraction of weights kept per layer (one entry per layer, or one entry for all but the output
  // layer, which then keeps everything).
  std::vector<double> keep_fraction = {0.1};
  bool pruning_recovery = false;
  double dropout = 0;
  int augment_shift = 0;  // random translation of training images by up to this many pixels  // on the inputs of dense layers while they train (BNN and retrain stages)

  // Schedule.
  StageConfig bnn{50, 0.01, 1e-6, 100};
  StageConfig retrain{10, 0.01, 1e-6, 100};
  StageConfig lut_real{10, 0.01, 1e-6, 100};
  StageConfig lut_binary{50, 0.01, 1e-6, 100};

  uint64_t seed = 1;
  std::string device = "cpu";
  int threads = 1;  // intra-op threads; one is fastest on small batches here
};

// Named presets: "paper-mnist" (published MNIST schedule 50/10/10/50), "quick" (the demo default),
// "tiny" (tests: synthetic data, small MLP, seconds).
TrainConfig preset(const std::string& name);
std::vector<std::string> preset_names();

// JSON round trip; from_json starts from `base` and overrides the fields present, rejecting unknown
// keys with an error that names them and the source.
std::string config_to_json(const TrainConfig& config);
TrainConfig config_from_json(const std::string& text, const std::string& source_name,
                             TrainConfig base);

// Throws lutnet::Error on an inconsistent config (K out of 2..6, levels out of 1..2, ...).
void validate(const TrainConfig& config);

// Which layers are LUT layers and how much of each layer is kept, expanded to one entry per layer.
std::vector<bool> lut_layer_mask(const TrainConfig& config);
std::vector<double> keep_fractions(const TrainConfig& config);

}  // namespace lutnet::train
