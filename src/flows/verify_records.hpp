#pragma once
// The binary files between `lutnet verify` and its Verilator harness (verilator_harness.cpp).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "data/dataset.hpp"
#include "hdl/verilog_writer.hpp"

namespace lutnet::flows {

inline constexpr uint32_t kInputMagic = 0x4956'4e4c;   // "LNVI"
inline constexpr uint32_t kOutputMagic = 0x4f56'4e4c;  // "LNVO"

inline size_t bytes_for(int bits) { return static_cast<size_t>(bits + 7) / 8; }

inline bool bit_of(const uint8_t* bytes, size_t j) { return (bytes[j / 8] >> (j % 8)) & 1; }

inline void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

inline uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

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

// The whole design's input file: magic, count, bytes per word, words per image, then the words:
// per image one vector of encoded bits (or 8-bit pixels with the encoder), or for a streaming
// design one word per pixel in raster order holding all channels (encoded: bit c*T + j = channel
// c >= threshold j; encoder: byte c = channel c).
// The start of both generated harnesses: includes, byte copies between buffers and Verilator
// signals of any width, u32(), and the start of main(argc, argv) with its usage check
// (verilator_harness.cpp).
std::string harness_helpers();

// Reading the input file into `inputs` and `count`, checking its header against kInputMagic,
// kInBytes and the constant named `words_per_image`.
std::string harness_read_inputs(const std::string& words_per_image);

// The Verilated model `top`, clock(), the counters `done`, protocol_errors and
// protocol_error(t), and report_progress(t), which writes `images_done` to the file `progress`.
std::string harness_simulator(const std::string& images_done);

// The end of both: writes the output file (trailer, then the bytes of `buffer`) and returns.
std::string harness_end(const std::string& buffer);

std::vector<uint8_t> harness_inputs(const Model& model, const hdl::HdlDesign& design,
                                    const Dataset& data, size_t count);

}  // namespace lutnet::flows
