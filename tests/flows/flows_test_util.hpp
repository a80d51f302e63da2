#pragma once
// Shared helpers of the flow tests: tool checks that name what is missing, tiny models, a
// scratch directory, PATH swapping.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/random_model.hpp"
#include "data/dataset.hpp"
#include "flows/subprocess.hpp"

namespace lutnet::test {

// Skips the test with the tool's name when it is not installed.
#define LUTNET_REQUIRE_TOOL(tool)                                                        \
  do {                                                                                   \
    if (::lutnet::flows::find_program(tool).empty())                                     \
      GTEST_SKIP() << tool << " not found on PATH: install it (apt-get install " << tool \
                   << ") to run this test";                                              \
  } while (0)

inline Model tiny_model(uint64_t seed, int k = 4, int levels = 2, int bits_per_pixel = 1) {
  RandomModelSpec spec;
  spec.input_shape = {1, 4, 4};
  spec.input_bits_per_pixel = bits_per_pixel;
  spec.hidden = {12, 9};
  spec.num_classes = 5;
  spec.k = k;
  spec.levels = levels;
  spec.keep_fraction = 0.5;
  spec.seed = seed;
  return make_random_model(spec);
}

inline Dataset random_images(const Model& model, int count, uint64_t seed) {
  Dataset d;
  d.name = "random";
  d.shape = model.input.shape;
  d.num_classes = model.num_classes;
  d.pixels = make_random_pixels(model, count, seed);
  for (int i = 0; i < count; ++i) d.labels.push_back(static_cast<uint8_t>(i % model.num_classes));
  return d;
}

// Sets PATH for the lifetime of the object.
class ScopedPath {
 public:
  explicit ScopedPath(const std::string& value) {
    const char* old = std::getenv("PATH");
    had_ = old != nullptr;
    if (old) old_ = old;
    ::setenv("PATH", value.c_str(), 1);
  }
  ~ScopedPath() {
    if (had_)
      ::setenv("PATH", old_.c_str(), 1);
    else
      ::unsetenv("PATH");
  }

 private:
  bool had_ = false;
  std::string old_;
};

}  // namespace lutnet::test
