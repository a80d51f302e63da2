#include "hdl/stream_modules.hpp"

#include <fmt/format.h>

#include <sstream>

#include "core/error.hpp"
#include "hdl/bit_heap.hpp"

namespace lutnet::hdl {
namespace {

// Always a range, [0:0] for one bit, so that a bit select is legal at any width.
std::string range(int bits) { return fmt::format("[{}:0] ", bits - 1); }

void comment_lines(std::ostringstream& out, const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out << "// " << line << "\n";
}

// Ports of a stream stage; `output` is the full declaration of the data output.
void stream_ports(std::ostringstream& out, const std::string& name, int pixel_bits,
                  const std::string& output) {
  out << fmt::format(
      "module {} (\n  input wire clk,\n  input wire rst,\n  input wire in_valid,\n"
      "  /* verilator lint_off UNUSED */\n  input wire {}in_pixel,\n"
      "  /* verilator lint_on UNUSED */\n  output wire out_valid,\n  {}\n);\n",
      name, range(pixel_bits), output);
}

// A mask with bit i set for every position i < n where `ok(i)`, as wide as an index of
// `index_bits` bits can reach, so that indexing it never leaves its range.
template <class Ok>
std::string position_mask(int n, int index_bits, Ok ok) {
  const int width = 1 << index_bits;
  std::string bits;
  for (int i = width - 1; i >= 0; --i) bits += (i < n && ok(i)) ? '1' : '0';
  return fmt::format("{}'b{}", width, bits);
}

// Line buffer, raster counters and the window-valid signal shared by conv and pool stages.
void window_controller(std::ostringstream& out, const StreamWindow& w) {
  const int d = w.buffered_pixels();
  const int pb = w.pixel_bits;
  if (d > 0) {
    out << "  // Line buffer: line[(j-1)*" << pb << " +: " << pb
        << "] is the pixel j positions before the newest.\n";
    out << "  /* verilator lint_off UNUSED */\n";
    out << fmt::format("  reg [{}:0] line;\n", d * pb - 1);
    out << "  /* verilator lint_on UNUSED */\n";
    out << "  always @(posedge clk)\n    if (in_valid) ";
    if (d == 1)
      out << "line <= in_pixel;\n";
    else
      out << fmt::format("line <= {{line[{}:0], in_pixel}};\n", (d - 1) * pb - 1);
  }
  const int cb = std::max(1, bit_width(w.width - 1));
  const int rb = std::max(1, bit_width(w.height - 1));
  out << fmt::format("  reg [{}:0] col;\n  reg [{}:0] row;\n", cb - 1, rb - 1);
  out << "  always @(posedge clk)\n";
  out << fmt::format("    if (rst) begin\n      col <= {0}'d0;\n      row <= {1}'d0;\n", cb, rb);
  out << "    end else if (in_valid) begin\n";
  out << fmt::format("      if (col == {}'d{}) begin\n        col <= {}'d0;\n", cb, w.width - 1,
                     cb);
  out << fmt::format("        row <= row == {0}'d{1} ? {0}'d0 : row + {0}'d1;\n", rb, w.height - 1);
  out << fmt::format("      end else begin\n        col <= col + {}'d1;\n      end\n    end\n", cb);
  // A window is complete when its bottom-right pixel arrives on a stride position.
  const auto col_ok = position_mask(w.width, cb, [&](int x) {
    return x >= w.kernel_w - 1 && (x - (w.kernel_w - 1)) % w.stride == 0;
  });
  const auto row_ok = position_mask(w.height, rb, [&](int y) {
    return y >= w.kernel_h - 1 && (y - (w.kernel_h - 1)) % w.stride == 0;
  });
  out << fmt::format("  wire [{}:0] col_ok = {};\n", (1 << cb) - 1, col_ok);
  out << fmt::format("  wire [{}:0] row_ok = {};\n", (1 << rb) - 1, row_ok);
  out << "  wire window_valid = in_valid && col_ok[col] && row_ok[row];\n";
}

std::string tap_expression(const WindowTap& t, int pixel_bits) {
  if (t.back == 0) return fmt::format("in_pixel[{}]", t.bit);
  return fmt::format("line[{}]", (t.back - 1) * pixel_bits + t.bit);
}

// The window's bits: x[i] from taps[i].
void window_taps(std::ostringstream& out, const std::vector<WindowTap>& taps, int pixel_bits) {
  out << fmt::format("  wire [{}:0] x;\n", static_cast<int>(taps.size()) - 1);
  for (size_t i = 0; i < taps.size(); ++i)
    out << fmt::format("  assign x[{}] = {};\n", i, tap_expression(taps[i], pixel_bits));
}

// out_valid = window_valid delayed by `latency` clocks.
void valid_delay(std::ostringstream& out, int latency) {
  out << fmt::format("  reg [{}:0] valid_q;\n", latency - 1);
  out << "  always @(posedge clk)\n";
  if (latency == 1)
    out << "    valid_q <= rst ? 1'b0 : window_valid;\n";
  else
    out << fmt::format("    valid_q <= rst ? {}'d0 : {{valid_q[{}:0], window_valid}};\n", latency,
                       latency - 2);
  out << fmt::format("  assign out_valid = valid_q[{}];\n", latency - 1);
}

void check_window(const StreamWindow& w) {
  if (w.height < w.kernel_h || w.width < w.kernel_w || w.stride < 1 || w.pixel_bits < 1)
    throw InternalError("stream window does not fit its input");
}

}  // namespace

std::string conv_stream_module(const std::string& name, const StreamWindow& window,
                               const std::vector<WindowTap>& taps, const std::string& array_module,
                               int array_latency, int out_bits, const std::string& comment) {
  check_window(window);
  std::ostringstream out;
  comment_lines(out, comment);
  stream_ports(out, name, window.pixel_bits,
               fmt::format("output wire {}out_pixel", range(out_bits)));
  window_controller(out, window);
  window_taps(out, taps, window.pixel_bits);
  valid_delay(out, array_latency);
  out << fmt::format("  {} u_array (.clk(clk), .x(x), .y(out_pixel));\n", array_module);
  out << "endmodule\n";
  return out.str();
}

std::string tiled_conv_stream_module(const std::string& name, const StreamWindow& window,
                                     const std::vector<WindowTap>& taps,
                                     const std::string& sequencer_module, int out_bits,
                                     const std::string& comment) {
  check_window(window);
  std::ostringstream out;
  comment_lines(out, comment);
  stream_ports(out, name, window.pixel_bits,
               fmt::format("output wire {}out_pixel", range(out_bits)));
  window_controller(out, window);
  window_taps(out, taps, window.pixel_bits);
  out << "  // The sequencer latches the window and walks its tile pairs; y then holds the "
         "pixel.\n";
  out << fmt::format(
      "  {} u_tiles (.clk(clk), .rst(rst), .in_valid(window_valid), .x(x), .out_valid(out_valid), "
      ".y(out_pixel));\n",
      sequencer_module);
  out << "endmodule\n";
  return out.str();
}

std::string pool_stream_module(const std::string& name, const StreamWindow& window, int channels,
                               int levels, const std::string& comment) {
  check_window(window);
  std::ostringstream out;
  comment_lines(out, comment);
  const int out_bits = channels * levels;
  stream_ports(out, name, window.pixel_bits,
               fmt::format("output reg {}out_pixel", range(out_bits)));
  window_controller(out, window);
  const std::string code = range(levels);
  out << fmt::format("  wire [{}:0] pooled;\n", out_bits - 1);
  for (int c = 0; c < channels; ++c) {
    // The codes of the window, level 0 most significant, compared as unsigned numbers: that is
    // the lexicographic order of the codes.
    int k = 0;
    for (int ky = 0; ky < window.kernel_h; ++ky)
      for (int kx = 0; kx < window.kernel_w; ++kx, ++k) {
        std::string bits;
        for (int l = 0; l < levels; ++l)
          bits += (l ? ", " : "") +
                  tap_expression({window.back(ky, kx), l * channels + c}, window.pixel_bits);
        out << fmt::format("  wire {}c{}_w{} = {{{}}};\n", code, c, k, bits);
        if (k == 0)
          out << fmt::format("  wire {0}c{1}_m0 = c{1}_w0;\n", code, c);
        else
          out << fmt::format(
              "  wire {0}c{1}_m{2} = c{1}_w{2} > c{1}_m{3} ? c{1}_w{2} : c{1}_m{3};\n", code, c, k,
              k - 1);
      }
    for (int l = 0; l < levels; ++l)
      out << fmt::format("  assign pooled[{}] = c{}_m{}[{}];\n", l * channels + c, c, k - 1,
                         levels - 1 - l);
  }
  out << "  always @(posedge clk) out_pixel <= pooled;\n";
  valid_delay(out, 1);
  out << "endmodule\n";
  return out.str();
}

std::string flatten_module(const std::string& name, int pixels, int channels, int levels,
                           const std::string& comment) {
  const int pb = channels * levels;
  const int total = pb * pixels;
  std::ostringstream out;
  comment_lines(out, comment);
  stream_ports(out, name, pb, fmt::format("output wire [{}:0] out_x", total - 1));
  out << "  // frame[j*" << pb << " +: " << pb << "] is the pixel j positions before the newest.\n";
  out << fmt::format("  reg [{}:0] frame;\n", total - 1);
  out << "  always @(posedge clk)\n    if (in_valid) ";
  if (pixels == 1)
    out << "frame <= in_pixel;\n";
  else
    out << fmt::format("frame <= {{frame[{}:0], in_pixel}};\n", total - pb - 1);
  const int cb = std::max(1, bit_width(pixels - 1));
  out << fmt::format("  reg [{}:0] count;\n  reg valid_q;\n", cb - 1);
  out << "  always @(posedge clk)\n";
  out << fmt::format("    if (rst) begin\n      count <= {}'d0;\n      valid_q <= 1'b0;\n", cb);
  out << "    end else begin\n";
  out << fmt::format("      valid_q <= in_valid && count == {}'d{};\n", cb, pixels - 1);
  out << fmt::format("      if (in_valid) count <= count == {0}'d{1} ? {0}'d0 : count + {0}'d1;\n",
                     cb, pixels - 1);
  out << "    end\n  assign out_valid = valid_q;\n";
  for (int l = 0; l < levels; ++l)
    for (int c = 0; c < channels; ++c)
      for (int p = 0; p < pixels; ++p)
        out << fmt::format("  assign out_x[{}] = frame[{}];\n", (l * channels + c) * pixels + p,
                           (pixels - 1 - p) * pb + l * channels + c);
  out << "endmodule\n";
  return out.str();
}

std::vector<long long> window_output_times(const StreamWindow& window,
                                           const std::vector<long long>& input_times, int latency) {
  std::vector<long long> out;
  const int oh = (window.height - window.kernel_h) / window.stride + 1;
  const int ow = (window.width - window.kernel_w) / window.stride + 1;
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      const size_t last = static_cast<size_t>(y * window.stride + window.kernel_h - 1) *
                              static_cast<size_t>(window.width) +
                          static_cast<size_t>(x * window.stride + window.kernel_w - 1);
      out.push_back(input_times.at(last) + latency);
    }
  return out;
}

}  // namespace lutnet::hdl
