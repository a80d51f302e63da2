#pragma once
// The streaming stages of a convolutional network in hardware (DESIGN.md §2, "Unrolled
// architecture": one output pixel per clock): a line buffer and window controller in front of a
// conv layer's LUT array, max-pool units on residual-sign codes, and the collector that turns a
// pixel stream into the flat vector of the dense tail. Plain Verilog-2005 text: the line buffers
// are shift registers that synthesis maps to SRLs, LUT-RAM or flip-flops as it sees fit.
//
// Every stage has the same stream ports: clk, rst, in_valid, in_pixel (all channels and levels of
// one pixel, bit l * C + c = level l of channel c, group order for the encoded input), out_valid
// and the output. Pixels arrive in raster order, one per clock at most, with gaps allowed; frames
// follow each other back to back or with gaps. A tiled conv stage needs its windows at least its
// tile pairs apart (the top paces the input pixels, docs/hardware.md §1d).
#include <string>
#include <vector>

#include "core/model.hpp"

namespace lutnet::hdl {

// Where one input bit of a window comes from: the pixel `back` pixels before the newest one
// (0: the newest, still on in_pixel), bit `bit` of that pixel.
struct WindowTap {
  int back = 0;
  int bit = 0;
};

// The window geometry of a conv or pool stage over an input map of height x width pixels.
struct StreamWindow {
  int height = 0;
  int width = 0;
  int kernel_h = 1;
  int kernel_w = 1;
  int stride = 1;
  int pixel_bits = 0;  // bits of in_pixel

  // Pixels the line buffer holds besides the newest: (kh - 1) rows plus kw - 1.
  int buffered_pixels() const { return (kernel_h - 1) * width + kernel_w - 1; }
  // The tap of kernel offset (ky, kx) when the window's bottom-right pixel is the newest.
  int back(int ky, int kx) const { return (kernel_h - 1 - ky) * width + (kernel_w - 1 - kx); }
};

// A conv stage: line buffer, window controller, and the LUT array module `array_module`
// (ports clk, x, y; latency `array_latency`) reading x[i] from taps[i]. out_pixel = y.
std::string conv_stream_module(const std::string& name, const StreamWindow& window,
                               const std::vector<WindowTap>& taps, const std::string& array_module,
                               int array_latency, int out_bits, const std::string& comment);

// A tiled conv stage: the same line buffer and window controller, and the tile sequencer
// `sequencer_module` of the layer (ports clk, rst, in_valid, x, out_valid, y; tiled_modules.hpp),
// which latches each completed window (x[i] from taps[i]) and, its tile pairs walked, marks
// out_pixel = y with out_valid. Windows must come at least the layer's tile pairs apart: the
// top's in_ready paces the input pixels so.
std::string tiled_conv_stream_module(const std::string& name, const StreamWindow& window,
                                     const std::vector<WindowTap>& taps,
                                     const std::string& sequencer_module, int out_bits,
                                     const std::string& comment);

// A max-pool stage over `channels` channels of `levels` levels: per channel, the largest code
// (level 0 most significant) of the window; registered (latency 1).
std::string pool_stream_module(const std::string& name, const StreamWindow& window, int channels,
                               int levels, const std::string& comment);

// Collects the `pixels` pixels of a frame (pixel_bits each: bit l * C + c) into out_x, the flat
// plane-major vector of the dense layer after it: bit l * (C * pixels) + c * pixels + p. out_valid
// rises for one clock after the frame's last pixel; out_x holds the frame until the next frame's
// first pixel arrives.
std::string flatten_module(const std::string& name, int pixels, int channels, int levels,
                           const std::string& comment);

// The cycle at which each output pixel of a window stage leaves it, given the cycle each input
// pixel arrived (raster order) and the stage latency: the timing model behind the stated latency.
std::vector<long long> window_output_times(const StreamWindow& window,
                                           const std::vector<long long>& input_times, int latency);

}  // namespace lutnet::hdl
