#pragma once
// The tile sequencer of a tiled layer in hardware (DESIGN.md §9): it latches the layer's input
// (a dense layer's frame, or the window of one output pixel of a conv layer) when it arrives, walks
// the tm x tn tile pairs one per clock (input tiles inner), and feeds the layer's LUT array module
// one input tile and one word of the weight memory per clock. The array module (a netlist,
// verilog_writer.cpp) holds the LUTs, popcounts, accumulators and threshold units. Plain
// Verilog-2005 text; the weight memory is a ROM initialised in an `initial` block and read
// synchronously, marked for block RAM.
//
// Ports: clk, rst, in_valid, x (the whole input), out_valid, y (the output register). A frame
// taken on a clock with in_valid is done tiled_layer_latency clocks later, when out_valid is high
// for one clock; from then y holds the frame's outputs for at least tn clocks. The next frame may
// arrive tm * tn clocks after the previous one, not earlier (nothing checks it: the top module's
// rate limiter keeps it so).
#include <cstdint>
#include <string>
#include <vector>

namespace lutnet::hdl {

struct TiledLayerText {
  std::string name;  // the sequencer module
  // Ports clk, x, w, first, done, to, acc_q -> acc (registered), out, write (combinational):
  // y takes the bits of output tile t from `out` (the outputs of one tile, out_width bits) on a
  // clock with write[t].
  std::string array_module;
  std::string comment;         // printed above the module
  std::string unit = "frame";  // what one input is, in comments ("window" for a conv layer)
  int levels = 1;              // the input: levels bit-planes of num_inputs bits, x[l*num_inputs+i]
  int num_inputs = 0;
  int tm = 1, tn = 1;
  int output_width = 0;  // bits of y
  int out_width = 0;     // bits of the array's out
  // Per output tile, the bits of y it owns: y[y_first .. y_first + count - 1] takes
  // out[out_first .. out_first + count - 1].
  struct Bits {
    int y_first = 0, out_first = 0, count = 0;
  };
  std::vector<std::vector<Bits>> tile_bits;
  int accumulator_width = 0;  // bits of the array's acc port
  int array_stages = 0;       // pipeline registers between the array's inputs and its acc
  // Word p = to * tn + ti of the weight memory, bit b of word p = words[p][b]; every word has
  // word_bits bits (0: no weight bits, no memory), n per kept tile position.
  int n = 1;
  int word_bits = 0;
  std::vector<std::vector<uint8_t>> words;
};

std::string tiled_layer_module(const TiledLayerText& t);

// Clocks from a frame's in_valid to out_valid: the pairs, one per clock, after the input latch,
// then the memory read and tile register, the array's pipeline, the accumulator and the output
// register.
inline int tiled_layer_latency(int tile_pairs, int array_stages) {
  return tile_pairs + 3 + array_stages;
}

}  // namespace lutnet::hdl
