#include "core/input_encoding.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace lutnet {

std::vector<uint8_t> thermometer_thresholds(int bits) {
  if (bits < 1 || bits > 8)
    throw Error(fmt::format("input bits per pixel = {} is out of range 1..8", bits));
  std::vector<uint8_t> t;
  for (int j = 0; j < bits; ++j) t.push_back(static_cast<uint8_t>(256 * (j + 1) / (bits + 1)));
  return t;
}

void encode_input(const InputEncoding& encoding, const uint8_t* pixels, uint8_t* bits) {
  const int n = encoding.num_pixels();
  const size_t t = encoding.thresholds.size();
  for (int p = 0; p < n; ++p)
    for (size_t j = 0; j < t; ++j) bits[p * t + j] = pixels[p] >= encoding.thresholds[j];
}

}  // namespace lutnet
