#pragma once
#include <cstdint>
#include <vector>

#include "core/model.hpp"

namespace lutnet {

// Default thresholds for a T-bit thermometer code of 8-bit pixels: evenly spaced, 128 for T = 1.
std::vector<uint8_t> thermometer_thresholds(int bits);

// Encodes one image of encoding.num_pixels() pixels into encoding.num_bits() bits (0/1 bytes),
// bit p*T + j = (pixel[p] >= thresholds[j]).
void encode_input(const InputEncoding& encoding, const uint8_t* pixels, uint8_t* bits);

}  // namespace lutnet
