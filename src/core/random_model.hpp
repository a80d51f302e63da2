#pragma once
// Random valid models for differential tests (reference vs engine vs RTL vs training).
#include <cstdint>
#include <vector>

#include "core/model.hpp"

namespace lutnet {

// A conv layer of a random model, optionally followed by a max-pool.
struct RandomConvSpec {
  int out_channels = 3;
  int kernel_h = 3;
  int kernel_w = 3;
  int stride = 1;
  int pool_window = 0;  // 0: no pooling
  int pool_stride = 1;
};

// Tiles every LUT layer whose sizes they divide (tm = 0: none).
struct RandomTilingSpec {
  int tm = 0, tn = 0;
  int k = 5, n = 1;
};

struct RandomModelSpec {
  std::vector<int> input_shape = {1, 4, 4};
  std::vector<RandomConvSpec> convs;  // conv layers before the dense ones (input must be C x H x W)
  int input_bits_per_pixel = 1;
  std::vector<int> hidden = {12, 9};  // hidden layer widths; the last layer has num_classes
  int num_classes = 5;
  int k = 4;
  int levels = 2;              // activation levels of hidden layers
  double keep_fraction = 0.5;  // fraction of inputs each output connects to (at least 1)
  RandomTilingSpec tiling;
  uint64_t seed = 1;
};

// Thresholds are drawn near the middle of each neuron's accumulator range so that outputs vary.
Model make_random_model(const RandomModelSpec& spec);

// The first `layers` layers of `model` (1..size-1) followed by a probe: an argmax layer whose
// score o is the code of position o of the last kept layer's output, sum_l 2^(L-1-l) * bit_l
// (one wire per position). A view that reports only class scores (the engine, the RTL) then shows
// every activation bit of that layer.
Model make_probe_model(const Model& model, size_t layers);

// Uniform random 8-bit pixels for `count` images.
std::vector<uint8_t> make_random_pixels(const Model& model, int count, uint64_t seed);

}  // namespace lutnet
