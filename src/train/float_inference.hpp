#pragma once
// LibTorch float inference of a trained network, for the engine benchmark's comparison row.
#include <cstdint>
#include <filesystem>

#include "data/dataset.hpp"

namespace lutnet::train {

struct FloatInferenceTiming {
  double images_per_second = 0;
  double ns_per_image = 0;
  int64_t correct = 0;
};

// Rebuilds the network saved in `checkpoint` (a finished run's checkpoint.pt) and times its
// eval-mode float forward pass over `data` in batches (1000 images, 100 for conv networks); median
// of `repeats` runs.
FloatInferenceTiming time_float_inference(const std::filesystem::path& checkpoint,
                                          const Dataset& data, int threads, int repeats);

}  // namespace lutnet::train
