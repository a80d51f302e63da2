#pragma once
// The binary files between `lutnet verify` and its Verilator harness (verilator_harness.cpp).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "hdl/verilog_writer.hpp"

namespace lutnet::flows {

inline constexpr uint32_t kInputMagic = 0x4956'4e4c;   // "LNVI"
inline constexpr uint32_t kOutputMagic = 0x4f56'4e4c;  // "LNVO"

inline size_t bytes_for(int bits) { return static_cast<size_t>(bits + 7) / 8; }

// Where each field sits in one output record of the harness: class, scores, then every hidden
// layer's outputs (streaming designs: each output pixel in bytes of its own).
struct RecordLayout {
  size_t score_offset = 8;  // after uint32 class and uint32 reserved
  size_t score_bytes = 0;
  std::vector<size_t> layer_offset, pixel_bytes, pixels;  // hidden layers
  size_t size = 0;

  explicit RecordLayout(const hdl::HdlDesign& d) {
    score_bytes = bytes_for(d.num_classes * d.score_width);
    size_t at = score_offset + score_bytes;
    for (size_t i = 0; i + 1 < d.layers.size(); ++i) {
      layer_offset.push_back(at);
      pixel_bytes.push_back(bytes_for(d.layers[i].output_width));
      pixels.push_back(static_cast<size_t>(d.layers[i].pixels));
      at += pixel_bytes.back() * pixels.back();
    }
    size = (at + 7) / 8 * 8;
  }
};

}  // namespace lutnet::flows
