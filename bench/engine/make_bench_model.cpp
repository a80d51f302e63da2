// Writes the random MNIST-shaped benchmark model (bench_model.hpp) to a model file, so that
// `lutnet bench FILE --random` and `lutnet eval FILE` can time it before a trained model exists.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "bench_model.hpp"
#include "core/model_io.hpp"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: %s OUT.json [K=4] [LEVELS=2]\n", argv[0]);
    return 2;
  }
  try {
    const int k = argc > 2 ? std::atoi(argv[2]) : 4;
    const int levels = argc > 3 ? std::atoi(argv[3]) : 2;
    lutnet::save_model(lutnet::bench::make_mnist_bench_model(k, levels), argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
