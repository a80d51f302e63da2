#include "hdl/tiled_modules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "core/error.hpp"
#include "hdl/bit_heap.hpp"

namespace lutnet::hdl {
namespace {

// Bits of a counter that holds 0 .. count - 1 (at least 1).
int counter_bits(int count) { return std::max(1, bit_width(count - 1)); }

// A word of `bits` bits (bit b = word[b]) as a sized hexadecimal literal.
std::string hex_word(const std::vector<uint8_t>& word, int bits) {
  std::string digits;
  for (int d = (bits + 3) / 4 - 1; d >= 0; --d) {
    int v = 0;
    for (int b = 3; b >= 0; --b) {
      const int at = 4 * d + b;
      v = 2 * v + (at < bits && word[static_cast<size_t>(at)] ? 1 : 0);
    }
    digits += "0123456789abcdef"[v];
  }
  return fmt::format("{}'h{}", bits, digits);
}

// Input tile ti of every level, level 0 in the low bits: tile bit l * PI + pi = x[l * N + ti * PI
// + pi].
std::string tile_slices(const TiledLayerText& t, int ti) {
  const int pi_count = t.num_inputs / t.tn;
  std::string s;
  for (int l = t.levels - 1; l >= 0; --l) {
    const int low = l * t.num_inputs + ti * pi_count;
    s += fmt::format("{}xq[{}:{}]", s.empty() ? "" : ", ", low + pi_count - 1, low);
  }
  return t.levels == 1 ? s : "{" + s + "}";
}

}  // namespace

std::string tiled_layer_module(const TiledLayerText& t) {
  if (t.tm < 1 || t.tn < 1 || t.num_inputs % t.tn != 0 || t.word_bits < 0 ||
      t.tile_bits.size() != static_cast<size_t>(t.tm) ||
      (t.word_bits > 0 && t.words.size() != static_cast<size_t>(t.tm) * t.tn))
    throw InternalError("tiled_layer_module: inconsistent tiling");
  const int pairs = t.tm * t.tn;
  const int pw = counter_bits(pairs), tiw = counter_bits(t.tn), tow = counter_bits(t.tm);
  const int xw = t.levels * t.num_inputs, tw = t.levels * (t.num_inputs / t.tn);
  const int valid_stages = tiled_layer_latency(pairs, t.array_stages) - pairs;
  std::ostringstream out;
  {
    std::istringstream lines(t.comment);
    for (std::string line; std::getline(lines, line);)
      out << (line.empty() ? "//" : "// " + line) << "\n";
  }
  out << fmt::format(
      "module {} (\n  input wire clk,\n  input wire rst,\n  input wire in_valid,\n"
      "  input wire [{}:0] x,\n  output wire out_valid,\n  output wire [{}:0] y\n);\n",
      t.name, xw - 1, t.output_width - 1);
  out << fmt::format(
      "  // The {}, latched when it arrives: the tile pairs read it for the next clocks.\n",
      t.unit);
  out << fmt::format("  reg [{}:0] xq;\n  always @(posedge clk)\n    if (in_valid) xq <= x;\n",
                     xw - 1);
  out << fmt::format(
      "  // Tile sequencer: pair p = to * {0} + ti, input tiles inner, one pair per clock.\n"
      "  reg run;\n  reg [{1}:0] p;\n  reg [{2}:0] ti;\n  reg [{3}:0] to;\n"
      "  wire last_ti = ti == {6}'d{4};\n  wire last_pair = p == {7}'d{5};\n",
      t.tn, pw - 1, tiw - 1, tow - 1, t.tn - 1, pairs - 1, tiw, pw);
  out << fmt::format(
      "  always @(posedge clk) begin\n"
      "    if (rst) run <= 1'b0;\n    else if (in_valid) run <= 1'b1;\n"
      "    else if (last_pair) run <= 1'b0;\n"
      "    if (in_valid) begin\n      p <= {0}'d0;\n      ti <= {1}'d0;\n      to <= {2}'d0;\n"
      "    end else if (run) begin\n      p <= p + {0}'d1;\n"
      "      ti <= last_ti ? {1}'d0 : ti + {1}'d1;\n      if (last_ti) to <= to + {2}'d1;\n"
      "    end\n  end\n",
      pw, tiw, tow);
  const int wb = std::max(1, t.word_bits);
  if (t.word_bits > 0) {
    out << fmt::format(
        "  // Weight memory, read-only, one word per tile pair: bits {0}q .. {0}q+{1} of word p "
        "are the\n  // weight bits of the q-th kept tile position (row-major) on pair p.\n"
        "  (* ram_style = \"block\" *)\n  reg [{2}:0] weights [0:{3}];\n  initial begin\n",
        t.n, t.n - 1, wb - 1, pairs - 1);
    for (int w = 0; w < pairs; ++w)
      out << fmt::format("    weights[{}] = {};\n", w,
                         hex_word(t.words[static_cast<size_t>(w)], t.word_bits));
    out << fmt::format("  end\n  reg [{}:0] w_q;\n", wb - 1);
  } else {
    out << "  wire w_q = 1'b0;  // no kept tile position: no weight bits\n";
  }
  out << fmt::format(
      "  // One clock after the pair: its weight word, its input tile (bit l*{0} + pi = level l "
      "of\n  // position pi) and what the array needs to know of it.\n"
      "  reg [{1}:0] tile_q;\n  reg first_q, done_q;\n  reg [{2}:0] to_q;\n"
      "  always @(posedge clk) begin\n",
      t.num_inputs / t.tn, tw - 1, tow - 1);
  // The memory is read only while the sequencer runs: an idle block RAM port costs no read
  // energy (lutnet power), and the array ignores w_q between frames.
  if (t.word_bits > 0) out << "    if (run) w_q <= weights[p];\n";
  out << fmt::format(
      "    first_q <= ti == {0}'d0;\n    done_q <= run && last_ti;\n    to_q <= to;\n", tiw);
  if (t.tn == 1) {
    out << "    tile_q <= xq;\n";
  } else {
    out << "    case (ti)\n";
    for (int ti = 0; ti < t.tn; ++ti)
      out << fmt::format("      {}: tile_q <= {};\n",
                         ti + 1 < t.tn ? fmt::format("{}'d{}", tiw, ti) : std::string("default"),
                         tile_slices(t, ti));
    out << "    endcase\n";
  }
  out << "  end\n";
  out << fmt::format(
      "  wire [{0}:0] acc;\n  wire [{1}:0] out;\n  wire [{2}:0] write;\n"
      "  {3} u_array (.clk(clk), .x(tile_q), .w(w_q), .first(first_q), .done(done_q), "
      ".to(to_q),\n    .acc_q(acc), .acc(acc), .out(out), .write(write));\n",
      t.accumulator_width - 1, t.out_width - 1, t.tm - 1, t.array_module);
  out << fmt::format(
      "  // The output register: output tile t's bits, from the array, when it writes tile t.\n"
      "  reg [{}:0] y_q;\n  assign y = y_q;\n  always @(posedge clk) begin\n",
      t.output_width - 1);
  for (int tile = 0; tile < t.tm; ++tile) {
    out << fmt::format("    if (write[{}]) begin\n", tile);
    for (const auto& r : t.tile_bits[static_cast<size_t>(tile)])
      out << fmt::format("      y_q[{}:{}] <= out[{}:{}];\n", r.y_first + r.count - 1, r.y_first,
                         r.out_first + r.count - 1, r.out_first);
    out << "    end\n";
  }
  out << "  end\n";
  out << fmt::format(
      "  // out_valid: y holds every output of the {4}, {0} clocks after its last pair.\n"
      "  reg [{1}:0] valid_q;\n  always @(posedge clk)\n"
      "    valid_q <= rst ? {2}'d0 : {{valid_q[{3}:0], run && last_pair}};\n"
      "  assign out_valid = valid_q[{1}];\nendmodule\n",
      valid_stages, valid_stages - 1, valid_stages, valid_stages - 2, t.unit);
  return out.str();
}

}  // namespace lutnet::hdl
