#pragma once
// `lutnet synth`: Yosys `synth_xilinx` for an UltraScale family, out of context (no I/O or clock
// buffers). Each layer module is synthesized by its own Yosys run (in parallel), the rest (input
// stage, argmax, top) by one more with the layers as black boxes; every layer boundary is a
// register, so the sum of the parts is the whole and the deepest module sets the critical path.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "hdl/verilog_writer.hpp"

namespace lutnet::flows {

struct SynthOptions {
  std::string family = "xcup";  // xcup (UltraScale+) or xcu (UltraScale)
  bool input_encoder = false;   // include the pixel encoder (overrides the HdlOptions field)
  // Without input_encoder: also synthesize the input stage with the encoder, as a row of its own
  // (SynthReport::encoder), instead of a second run of the whole design. Whole designs only.
  bool encoder_row = false;
  bool abc9 = false;     // synth_xilinx -abc9 (docs/hardware.md has the comparison)
  bool flatten = false;  // one flattened run of the whole design: totals only
  // Synthesize every learned table and counter output as the LUT primitive it was generated as
  // (HdlOptions::xilinx_primitives). Without it, ABC's depth-oriented mapping merges tables into
  // the adder trees and duplicates them: about 1.6x the LUTs and 5x the run time
  // (docs/hardware.md).
  bool pin_luts = true;
  // Map shift registers (line buffers) to SRL16E/SRLC32E. Yosys 0.23's SRL inference drops the
  // clock enable of FDRE chains (YosysHQ/yosys#6058, fixed after 0.23): the LUT counts hold, but
  // the netlist shifts on stalls. `lutnet power`, which simulates the netlist, turns it off.
  bool srl = true;
  // Only the modules of these model layers (empty: the whole design); the totals are theirs.
  // For designs too large to synthesize whole here, such as the paper's CNV unrolled.
  std::vector<int> layers;
  int jobs = 2;  // Yosys runs at a time
  std::filesystem::path work_dir;
  bool keep = false;
  // Lines on the Yosys runs (done, running, elapsed, an estimate of the time left) as each ends
  // and every 30 s; nullptr for silence.
  std::ostream* progress = nullptr;
};

// Cells of one module after synthesis.
struct ModuleSynth {
  std::string label;   // "input", "layer 0", ..., "argmax", "top", or "design" when flattened
  std::string module;  // Verilog module name
  int layer = -1;
  int64_t luts = 0;  // LUT1..LUT6 (+ LUT6_2, SRLs and LUT-RAMs, which occupy LUTs)
  int64_t ffs = 0;
  int64_t carries = 0;  // CARRY4 / CARRY8
  int64_t muxes = 0;    // MUXF7/8/9
  // Storage cells (line buffers of streaming designs, weight memories of tiled layers):
  // shift-register LUTs (SRL16E, SRLC32E), LUT-RAM (RAM32M, RAM64X1D, ...; both also counted in
  // luts) and block RAM (brams: every RAMB18* and RAMB36* cell, and of them ramb18 and ramb36).
  int64_t srls = 0, lutrams = 0, brams = 0, ramb18 = 0, ramb36 = 0;
  int lut_depth = 0;                     // most LUTs on a register-to-register (or port) path
  std::map<std::string, int64_t> cells;  // every cell type
  double seconds = 0;                    // of the Yosys run that made it
  // From the generator, for layers: LUTs left after table simplification, bits into the adders.
  int64_t learned_luts = 0;
  int64_t popcount_bits = 0;
  // LUTs besides the learned ones per adder-tree input bit (popcount, weighting, compares).
  double adder_luts_per_bit() const {
    return popcount_bits
               ? static_cast<double>(luts - learned_luts) / static_cast<double>(popcount_bits)
               : 0.0;
  }
};

struct SynthReport {
  int64_t luts = 0, ffs = 0, carries = 0, muxes = 0, srls = 0, lutrams = 0, brams = 0, ramb18 = 0,
          ramb36 = 0;
  int lut_depth = 0;
  std::vector<ModuleSynth> per_layer;  // every module, in pipeline order
  // SynthOptions::encoder_row: the input stage with the pixel encoder, not in the totals.
  std::optional<ModuleSynth> encoder;
  double seconds = 0;  // wall time of generation + all Yosys runs
  double generate_seconds = 0;
  std::string family;
  bool abc9 = false, flatten = false, input_encoder = false, pin_luts = false, srl = true;
  std::string popcount;  // adder-tree style
  int latency_cycles = 0;
  int cycles_per_frame = 1;  // the initiation interval (HdlDesign): 1 for unrolled dense designs
  bool tiled = false;        // the design has tiled layers (in_ready)
  bool streaming = false;    // a conv model's pixel stream (HdlDesign::streaming)
  std::string yosys_version;
  std::filesystem::path work_dir;  // empty when it was a removed temporary directory
  // The BLIF netlists of the design's modules in work_dir (when kept), the encoder row's not
  // among them.
  std::vector<std::filesystem::path> netlists;

  // The design's LUTs with the encoder's input stage in place of the plain one.
  int64_t luts_with_encoder() const;

  nlohmann::json to_json() const;
  std::string table() const;  // a plain-text table, one row per module and a total
};

SynthReport synthesize(const Model& model, const hdl::HdlOptions& hdl_options,
                       const SynthOptions& options);
// The generator options of the design synthesize() synthesizes (its encoder, LUT primitives).
hdl::HdlOptions synthesized_hdl_options(const hdl::HdlOptions& hdl_options,
                                        const SynthOptions& options);

// A standalone registered popcount of n bits through the same Yosys flow: the LUTs-per-bit figure.
struct PopcountSynth {
  int bits = 0;
  hdl::PopcountStyle style = hdl::PopcountStyle::kCompressorTree;
  int64_t luts = 0, carries = 0;
  int lut_depth = 0;
  double luts_per_bit() const { return bits ? static_cast<double>(luts) / bits : 0.0; }
};
PopcountSynth synthesize_popcount(int bits, hdl::PopcountStyle style, const SynthOptions& options);

// Longest LUT path per module of a mapped BLIF netlist (Yosys write_blif). LUTs count 1; carry and
// wide-mux cells count 0 but pass paths through; flip-flops, SRLs, ports and black boxes end paths.
std::map<std::string, int> lut_depth_by_module(const std::string& blif);

// Cell counts per module from `stat -json`.
std::map<std::string, std::map<std::string, int64_t>> cells_by_module(const nlohmann::json& stat);

// A Vivado Tcl script for the same out-of-context synthesis (and implementation) of the design,
// reading `verilog_file` from the script's directory. Not run by lutnet.
std::string vivado_tcl(const hdl::HdlDesign& design, const std::string& verilog_file,
                       const std::string& family, const std::string& part = "");

}  // namespace lutnet::flows
