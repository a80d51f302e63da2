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

// One convolutional layer of the network's conv part (3x3 valid convolutions in the paper's CNV).
// A conv layer reads the previous layer's C x H x W activation planes (the encoded image for the
// first one: C*T channels, T thermometer bits per pixel) and writes `channels` x H' x W' with
// H' = (H - kernel) / stride + 1; with pool = P > 1 a P x P max-pool of stride P follows, applied
// to the batch-norm output before the residual sign (DESIGN.md §8).
struct ConvSpec {
  int channels = 0;
  int kernel = 3;
  int stride = 1;
  int pool = 0;  // 0 (or 1): no pooling
  bool operator==(const ConvSpec&) const = default;
};

// The tiles of one layer (DESIGN.md §9): its outputs split into tm tiles, its inputs (conv: the
// window positions) into tn tiles; {0, 0} leaves the layer unrolled.
struct TileSpec {
  int tm = 0;
  int tn = 0;
  bool tiled() const { return tm > 0; }
  bool operator==(const TileSpec&) const = default;
};

struct TrainConfig {
  // Data.
  // mnist | fashion-mnist | cifar10 | svhn | synthetic (8x8) | synthetic-rgb (32x32x3)
  std::string dataset = "mnist";
  std::string data_dir;  // empty: default_data_dir()
  int validation_images = 5000;
  int train_limit = 0;  // 0: all training images (for quick experiments and tests)
  int test_limit = 0;   // 0: the whole test set
  int input_bits = 1;   // thermometer bits per pixel (1 = plain threshold at 128)

  // Network: the conv part (empty: an MLP), then the dense hidden widths; the output layer has
  // one neuron per class.
  std::vector<ConvSpec> conv;
  std::vector<int> hidden = {256, 256, 256, 256};
  int levels = 2;            // residual activation levels L (1 or 2)
  int level_ratio_bits = 2;  // after the BNN stage m_l/m_0 is fixed to a multiple of 2^-bits
  int k = 4;                 // LUT inputs
  // Which layers become LUT layers (index into all layers: conv layers first, then the hidden
  // dense layers, the output layer last). Empty: every layer except the output layer.
  std::vector<int> lut_layers;
  // Fraction of weights kept per layer (one entry per layer, or one entry for all but the output
  // layer, which then keeps everything).
  std::vector<double> keep_fraction = {0.1};
  bool pruning_recovery = false;
  // How the K-1 extra inputs of unrolled LUT layers are chosen: "random" (seeded permutations,
  // the paper's choice) or "learned" (train/input_selection.hpp: learned in the real-valued LUT
  // stage from the random start, then fixed). Tiled layers keep their permutations.
  std::string input_selection = "random";
  // Tiled layers: one entry per layer, or one entry for every layer except the output layer
  // (which is never tiled); empty: none. A tiled layer's pruning mask is tied across its tile
  // pairs; a tiled LUT layer has tiled_k inputs, tiled_n of them weight bits from block RAM.
  std::vector<TileSpec> tiles;
  int tiled_k = 5;
  int tiled_n = 1;
  // Dropout on the inputs of dense layers while they train (BNN and retrain stages).
  double dropout = 0;
  int augment_shift = 0;      // random translation of training images by up to this many pixels
  bool augment_flip = false;  // random horizontal flips (natural images, not digits)

  // Schedule.
  StageConfig bnn{50, 0.01, 1e-6, 100};
  StageConfig retrain{10, 0.01, 1e-6, 100};
  StageConfig lut_real{10, 0.01, 1e-6, 100};
  StageConfig lut_binary{50, 0.01, 1e-6, 100};

  uint64_t seed = 1;
  std::string device = "cpu";
  int threads = 1;  // intra-op threads; one is fastest on small batches here
};

// Named presets: "demo" (lutnet flow's default: a small MLP with learned inputs at keep 3%),
// "paper-mnist" (published MNIST schedule 50/10/10/50), "quick" (train's default: short stages),
// "tiny" (tests: synthetic data, small MLP, seconds), "cnv" (the paper's CNV for CIFAR-10/SVHN),
// "cnv-small" (a narrower conv net for MNIST / Fashion-MNIST on 2 cores).
TrainConfig preset(const std::string& name);
// The preset as trained on `dataset` (empty: its own): "cnv" flips CIFAR-10's natural images only
// (flipped digits are other digits); "cnv-small" on Fashion-MNIST has a wider conv3 (64) and
// conv5 (128) and trains with flips, 1-pixel shifts and gentler later stages (docs/training.md).
TrainConfig preset(const std::string& name, const std::string& dataset);
std::vector<std::string> preset_names();

// JSON round trip; from_json starts from `base` and overrides the fields present, rejecting unknown
// keys with an error that names them and the source.
std::string config_to_json(const TrainConfig& config);
TrainConfig config_from_json(const std::string& text, const std::string& source_name,
                             TrainConfig base);

// Throws lutnet::Error on an inconsistent config (K out of 2..6, levels out of 1..2, ...).
void validate(const TrainConfig& config);

// Number of layers: conv layers + hidden dense layers + the output layer.
int num_layers(const TrainConfig& config);

// Parses the compact conv syntax of --conv: entries separated by ',', each CHANNELS[kK][sS][pP],
// e.g. "64,64p2,128,128p2,256,256" (kernel 3, stride 1, no pool by default). Throws lutnet::Error
// naming the bad entry.
std::vector<ConvSpec> parse_conv_spec(const std::string& text);
std::string format_conv_spec(const std::vector<ConvSpec>& conv);

// Which layers are LUT layers and how much of each layer is kept, expanded to one entry per layer.
std::vector<bool> lut_layer_mask(const TrainConfig& config);
std::vector<TileSpec> tile_specs(const TrainConfig& config);

// Parses --tiled: one TMxTN for every layer but the output layer, or one entry per layer
// separated by ',' with 0 for an unrolled layer ("8x8,8x8,8x8,8x8,0"). Throws lutnet::Error
// naming the bad entry.
std::vector<TileSpec> parse_tile_spec(const std::string& text);
std::string format_tile_spec(const std::vector<TileSpec>& tiles);
std::vector<double> keep_fractions(const TrainConfig& config);

}  // namespace lutnet::train
