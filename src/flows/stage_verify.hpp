#pragma once
// Per-stage verification of streaming designs. Every stage module -- the input stage, each conv
// and pool stage, the flatten, each dense layer and the argmax -- is Verilated on its own and
// simulated on every image, its inputs taken from the reference evaluator's trace of the stage
// before it, every output bit compared with the reference.
//
// Why: in the assembled design every clock of a frame evaluates the whole network, dense tail
// included, though each stage works only while its own pixels pass. Alone, a stage runs only
// its own clocks (the dense tail one per image), and the streaming stages are small enough to
// compile at -O1: on cnv-small 10,000 images take 925 s of simulation instead of ~34 hours.
// The assembled design (verify.cpp) checks the wiring between the stages on the first images.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/reference_evaluator.hpp"
#include "data/dataset.hpp"
#include "flows/verify.hpp"
#include "hdl/verilog_writer.hpp"

namespace lutnet::flows {

struct StageBench {
  enum class Kind { kInput, kStream, kFlatten, kDense, kArgmax };
  Kind kind = Kind::kInput;
  std::string label;   // "input stage", "layer 2 (lut_conv2d)", "flatten before layer 5", ...
  std::string module;  // the Verilog module simulated as the top
  int layer = -1;      // the model layer whose output it produces (flatten: the dense layer)
  std::string in_port, out_port;
  int in_width = 0, out_width = 0;  // bits per word
  int in_words = 1, out_words = 1;  // words per image (pixels of a frame, or 1)
  int latency = 1;                  // clocks from input to output
  // A tiled layer's stage (a conv stage around a tile sequencer, or a tiled dense layer): an
  // input word (pixel, or vector) at most every `interval` clocks, its tile pairs -- the rate
  // the top's in_ready keeps in the assembled design, or faster.
  bool tiled = false;
  int interval = 1;
  // Conv, pool and flatten stages: a pixel stream.
  bool streaming() const { return kind == Kind::kStream || kind == Kind::kFlatten; }
  // in_valid / out_valid with rst, outputs whenever out_valid says; otherwise one word per clock
  // in and, `latency` clocks later, one out.
  bool handshake() const { return streaming() || tiled; }
};

// The stages of a streaming design, in data-flow order.
std::vector<StageBench> stage_benches(const Model& model, const hdl::HdlDesign& design);

// The C++ harness that drives one stage (stage_harness.cpp). Input file: magic, images, bytes per
// word, words per image, the words. Output file: magic, images, valid-handshake errors, the clock
// of the first, then the output words.
std::string stage_harness(const StageBench& stage, int bubble_every);

struct StageVerification {
  size_t images = 0;
  size_t mismatches = 0;  // images where any stage differs
  long first_mismatch_image = -1;
  int first_mismatch_layer = -1;
  std::string first_mismatch;
  double reference_seconds = 0, seconds = 0;  // seconds: wall time of the whole step
  std::vector<StageReport> stages;
};

// Simulates every stage of `design` (generated from `model`) on the first `count` images of
// `data` in `work_dir` (a subdirectory per stage), `options.jobs` stages at a time, against the
// reference evaluation of `golden` (the same shape as `model`). Throws lutnet::Error when a tool
// fails; mismatches are in the result.
StageVerification verify_stages(const Model& model, const Model& golden,
                                const hdl::HdlDesign& design, const Dataset& data, size_t count,
                                const std::filesystem::path& work_dir,
                                const VerifyOptions& options);

}  // namespace lutnet::flows
