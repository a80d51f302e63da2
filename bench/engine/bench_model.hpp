#pragma once
// The realistic benchmark model until a trained MNIST LUTNet exists: 784-256-256-256-256-10,
// K = 4, two activation levels, 10% of connections kept (random tables and wiring).
#include "core/random_model.hpp"

namespace lutnet::bench {

inline Model make_mnist_bench_model(int k = 4, int levels = 2, uint64_t seed = 1) {
  RandomModelSpec spec;
  spec.input_shape = {1, 28, 28};
  spec.hidden = {256, 256, 256, 256};
  spec.num_classes = 10;
  spec.k = k;
  spec.levels = levels;
  spec.keep_fraction = 0.1;
  spec.seed = seed;
  return make_random_model(spec);
}

}  // namespace lutnet::bench
