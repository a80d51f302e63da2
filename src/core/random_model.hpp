#pragma once
// Random valid models for differential tests (reference vs engine vs RTL vs training).
#include <cstdint>
#include <vector>

#include "core/model.hpp"

namespace lutnet {

struct RandomModelSpec {
  std::vector<int> input_shape = {1, 4, 4};
  int input_bits_per_pixel = 1;
  std::vector<int> hidden = {12, 9};  // hidden layer widths; the last layer has num_classes
  int num_classes = 5;
  int k = 4;
  int levels = 2;                   // activation levels of hidden layers
  double keep_fraction = 0.5;       // fraction of inputs each output connects to (at least 1)
  uint64_t seed = 1;
};

// Thresholds are drawn near the middle of each neuron's accumulator range so that outputs vary.
Model make_random_model(const RandomModelSpec& spec);

// Uniform random 8-bit pixels for `count` images.
std::vector<uint8_t> make_random_pixels(const Model& model, int count, uint64_t seed);

}  // namespace lutnet
