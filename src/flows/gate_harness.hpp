#pragma once
// Drives the gate-level simulation of a synthesized design with frames at full rate, as the
// design's own protocol allows (verilog_writer.hpp): an input vector per clock, a pixel per clock,
// or -- with in_ready -- the next input or pixel offered and held until taken. Collects each
// result's class and scores. Activity counting starts after reset, at the first input.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hdl/verilog_writer.hpp"
#include "power/gate_simulator.hpp"

namespace lutnet::flows {

struct GateResult {
  int label = 0;
  std::vector<uint8_t> scores;  // out_scores, little-endian bytes
};

struct GateRun {
  std::vector<GateResult> results;  // in order; fewer than the frames when valids were lost
  uint64_t cycles = 0;              // counted: from the first input to the last result
  std::string protocol_error;       // empty, or what went wrong (in_ready, lost results)
};

// `words`: per frame, design.frame_pixels words (1 unless streaming) of bytes_for(input_width)
// bytes each, as harness_inputs() lays them out after its header.
GateRun run_frames(power::GateSimulator& sim, const hdl::HdlDesign& design,
                   const std::vector<uint8_t>& words, size_t frames,
                   const std::function<void(size_t done)>& progress);

}  // namespace lutnet::flows
