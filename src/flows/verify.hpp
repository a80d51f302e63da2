#pragma once
// `lutnet verify`: the generated RTL, simulated by Verilator on every test image, against the
// reference evaluator -- class, output accumulators and every hidden layer's output bits (for
// conv and pool layers every bit of every output pixel). Streaming designs: the assembled design
// on the first images, and every stage alone on every image.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "data/dataset.hpp"
#include "hdl/verilog_writer.hpp"

namespace lutnet::flows {

struct VerifyOptions {
  std::filesystem::path work_dir;  // empty: a temporary directory
  bool keep = false;               // keep the temporary directory
  // The design to simulate: encoder, LUTn primitives (simulated with behavioural models),
  // adder pipeline, popcount style.
  hdl::HdlOptions hdl;
  // The assembled design on the first `limit` images (0: all; streaming designs with `stages`:
  // the first 100, as a frame of the whole network takes ~seconds to simulate there).
  size_t limit = 0;
  // Streaming designs: also every stage alone on the first `stage_limit` images (0: all), which
  // simulates ~100x faster per image (stage_verify.hpp).
  bool stages = false;
  size_t stage_limit = 0;
  int jobs = 2;           // parallel C++ compiles of the Verilated model
  int bubble_every = 13;  // every n-th clock carries no input (0: never), to test valid
  // Compare against this model's reference instead of the simulated one (fault injection in
  // tests: it must have the same shape).
  const Model* reference_model = nullptr;
};

// One stage of the per-stage simulation.
struct StageReport {
  std::string label;      // "input stage", "layer 2 (lut_conv2d)", "argmax", ...
  size_t mismatches = 0;  // images whose outputs of this stage differ
  double build_seconds = 0, run_seconds = 0;
};

struct VerifyReport {
  size_t images = 0;
  size_t mismatches = 0;   // images whose class, scores or a layer output differ
  size_t rtl_correct = 0;  // images the RTL classifies as labelled
  long first_mismatch_image = -1;
  int first_mismatch_layer = -1;  // model layer index (the last layer for scores and class)
  std::string first_mismatch;     // what differed, in words
  double generate_seconds = 0, build_seconds = 0, run_seconds = 0, reference_seconds = 0;
  int latency_cycles = 0;  // streaming designs: from a frame's first pixel to its result
  // The initiation interval: frame pixels for a streaming design (times the pixel interval R
  // with tiled layers), the tile pairs of the largest tiled layer for an all-dense tiled one.
  int cycles_per_frame = 1;
  std::filesystem::path work_dir;  // empty when it was a removed temporary directory
  // The per-stage simulation (options.stages on a streaming design); its mismatches are not in
  // `mismatches`, the first of them is `first_mismatch` if the assembled design had none.
  size_t stage_images = 0, stage_mismatches = 0;
  double stage_seconds = 0;
  std::vector<StageReport> stages;
  bool passed() const { return mismatches == 0 && stage_mismatches == 0; }
};

// Throws lutnet::Error when verilator is missing, a tool fails (naming its log) or the dataset
// does not fit the model. A mismatch is not an exception: it is in the report.
VerifyReport verify_rtl(const Model& model, const Dataset& data, const VerifyOptions& options);

// The C++ harness that drives the Verilated model (exposed for tests and for the curious).
std::string verilator_harness(const hdl::HdlDesign& design, int bubble_every);

}  // namespace lutnet::flows
