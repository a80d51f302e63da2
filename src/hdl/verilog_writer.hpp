#pragma once
// Synthesizable Verilog-2005 for the fully unrolled network (DESIGN.md §2, "Unrolled
// architecture"): every learned LUT a LUT, per-output compressor trees, the level weighting and
// threshold compares of the model file, a register stage per layer, an argmax over the output
// accumulators; models that start with conv or pool layers stream pixels through line buffers
// and window stages. Tiled layers (DESIGN.md §9), dense or conv, become one LUT array reused over
// their tile pairs, with the weight bits in block RAM; a design with one takes a new input (a
// vector, or a pixel) only every so many cycles and says so on in_ready. docs/hardware.md
// describes the ports, the latency and the module structure.
//
// Same model and options give the same bytes.
#include <cstdint>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "hdl/bit_heap.hpp"
#include "hdl/netlist.hpp"

namespace lutnet::hdl {

struct HdlOptions {
  bool xilinx_primitives = false;  // learned LUTs as Xilinx LUTn instances instead of behavioural
  bool input_encoder = false;      // in_data carries 8-bit pixels, encoded in hardware
  int adder_pipeline_stages = 0;   // extra registers inside each layer's adder trees (at most)
  std::string top_name = "lutnet_top";
  PopcountStyle popcount = PopcountStyle::kCompressorTree;
};

// One generated module and what the flows need to know about it.
struct ModuleInfo {
  std::string name;     // Verilog module name
  std::string label;    // "input", "layer 0", ..., "argmax", "top"
  int layer = -1;       // model layer index, or -1
  std::string verilog;  // this module's text (also part of HdlDesign::verilog)
  std::string stub;     // its ports only, as an empty module (for synthesizing its parent alone)
};

struct LayerHardware {
  LayerKind kind = LayerKind::kLutDense;
  // Verilog module name (conv and pool: the stream stage; tiled dense: the tile sequencer)
  std::string module;
  std::string array_module;      // conv and tiled: the LUT array module inside `module`
  std::string sequencer_module;  // tiled: the tile sequencer (dense: `module`; conv: inside it)
  std::string output_signal;     // wire in the top module that carries the layer's register
  std::string valid_signal;      // streaming designs: the wire that marks output_signal valid
  std::string input_signal, input_valid;  // streaming designs: what the layer reads
  int pixels = 1;  // streaming designs: outputs per frame (output pixels; 1 dense)
  // Bits; plane-major like LayerTrace::output_bits, or scores. Conv and pool: the bits of one
  // output pixel, bit l * C + c = level l of channel c.
  int output_width = 0;
  int register_depth = 0;      // register stages from in_data to this layer's output
  int latency_cycles = 0;      // of this layer alone
  int compression_stages = 0;  // counter stages of its deepest adder tree
  std::vector<uint8_t> live;   // per output bit: read downstream (dead bits are tied to 0)
  int64_t live_neurons = 0;
  int64_t learned_luts = 0;      // tables that remain real LUTs after simplification
  int64_t free_connections = 0;  // tables that are a wire or an inverter
  int64_t constant_tables = 0;
  int64_t popcount_bits = 0;  // bits entering the adder trees
  // Tiled layers: the LUT array of one tile pair (the figures above count it once) walks the
  // tile_pairs pairs, one per clock, and takes a new input (a conv layer: a window) every
  // busy_cycles = tile_pairs cycles. Its weight memory holds weight_words words of weight_word_bits
  // bits (the n weight bits of every kept tile position of one tile pair); accumulator_bits per
  // tile output.
  bool tiled = false;
  int tile_pairs = 0;
  int busy_cycles = 1;
  int weight_words = 0;
  int weight_word_bits = 0;
  int accumulator_bits = 0;
};

struct HdlDesign {
  std::string verilog;
  std::string top_name;
  // Streaming designs (the model starts with conv or pool layers): in_data carries one pixel of
  // all channels, frame_pixels pixels per frame in raster order, at most one pixel every
  // pixel_interval cycles, so a frame takes pixel_interval * frame_pixels cycles (the initiation
  // interval). pixel_interval is 1 without tiled layers; with them R = the largest
  // ceil(tile pairs / g) of a tiled layer, g the fewest input pixels between two consecutive
  // windows (frames) that reach it: 1 for a stride-1 conv on the input, more behind strides and
  // pools, frame_pixels for a dense layer. Otherwise one input vector per clock.
  bool streaming = false;
  int frame_pixels = 1;
  int pixel_interval = 1;
  // Cycles between two inputs (frames) at full rate: 1 for unrolled dense designs,
  // pixel_interval * frame_pixels for streaming designs, the largest busy_cycles of a tiled layer
  // otherwise.
  int initiation_interval = 1;
  // The top has an in_ready output (designs with a tiled layer): an input (streaming: a pixel)
  // is taken on a clock with in_valid and in_ready, and in_ready rises initiation_interval
  // (streaming: pixel_interval) clocks after it. in_valid and in_data are held until taken.
  // Without it, an input is taken on every clock with in_valid.
  bool in_ready = false;
  // in_valid to out_valid (with in_ready: from the clock that takes the input); streaming: from
  // the clock that takes a frame's first pixel, when the frame's pixels come at full rate (back
  // to back, or with in_ready one every pixel_interval clocks).
  int latency_cycles = 0;
  int input_width = 0;  // bits of in_data (8 per pixel with the input encoder); streaming: 1 pixel
  std::vector<uint8_t> input_live;  // per encoded input bit: read by layer 0 (others tied to 0)
  bool input_encoder = false;
  int num_classes = 0;
  int class_width = 0;                // bits of out_class
  int score_width = 0;                // bits per class in out_scores
  std::vector<ModuleInfo> modules;    // input stage, layers, argmax, top (dependency order)
  std::vector<LayerHardware> layers;  // one per model layer
  // Streaming designs: the collector in front of the first dense layer (`layer`), which reads
  // `input` / `input_valid`; its outputs are flat<layer>_x / flat<layer>_valid.
  struct Flatten {
    std::string module;
    int layer = 0;
    std::string input, input_valid;
  };
  std::vector<Flatten> flattens;
  int64_t encoder_compares = 0;  // live pixel-threshold compares of the input encoder
  // Behavioural models of the Xilinx LUT1..LUT6 primitives for simulators (empty unless
  // xilinx_primitives); synthesis tools bring their own.
  std::string simulation_models;
};

// Throws lutnet::Error for a model the hardware cannot take, naming the layer: a conv or pool
// layer after a dense one, or a conv model without an image input shape.
HdlDesign generate_verilog(const Model& model, const HdlOptions& options);

// The same, also handing out the netlists the modules were printed from (input stage first, then
// one per layer), so tests can evaluate them against the reference evaluator without a simulator.
// A tiled layer's netlist is its array module (docs/hardware.md): one tile pair's LUTs and
// popcounts into the accumulators (fed back through the input acc_q), and the threshold units
// (trees, with fewer than 4 output tiles) on them (the combinational output `out`, which the tile
// sequencer registers); the sequencer is plain text.
HdlDesign generate_verilog(const Model& model, const HdlOptions& options,
                           std::vector<Netlist>* netlists);

// A standalone registered popcount of n bits, for measuring LUTs per popcount bit. Ports: clk,
// in_data[n-1:0], out_count.
std::string generate_popcount_module(int n, PopcountStyle style, const std::string& name,
                                     bool xilinx_primitives = false);

}  // namespace lutnet::hdl
