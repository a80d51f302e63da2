#include "hdl/verilog_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/error.hpp"
#include "core/lut_function.hpp"
#include "hdl/stream_modules.hpp"
#include "hdl/tiled_modules.hpp"
#include "hdl/verilog_emit.hpp"

namespace lutnet::hdl {
namespace {

constexpr int64_t kThresholdClamp = int64_t{1} << 61;  // far beyond any accumulator
// A tiled layer with at least this many output tiles gets threshold units fed from a ROM on the
// output tile (tiled_threshold_units); with fewer, every output's constant threshold tree is
// smaller (measured, docs/hardware.md §1c: 2 output tiles 3% more LUTs with the units, 4 tiles
// 9% fewer).
constexpr int kThresholdUnitTiles = 4;

// The residual-sign tree (residual_sign_bit): bit b of an output compares with its threshold
// (2^b - 1) + prefix, prefix = bits 0 .. b - 1 with bit 0 most significant.
int residual_threshold_index(int bit, int prefix) { return ((1 << bit) - 1) + prefix; }

// The net of a non-constant reduced LUT (a wire, an inverter or a learned LUT), counted in hw;
// `in` gives the net of the LUT's input p.
template <typename InputNet>
Net reduced_lut_net(Netlist& nl, const ReducedLut& r, InputNet in, LayerHardware& hw) {
  switch (r.kind) {
    case ReducedLut::Kind::kWire:
      ++hw.free_connections;
      return in(r.inputs[0]);
    case ReducedLut::Kind::kInverter:
      ++hw.free_connections;
      return nl.not_(in(r.inputs[0]));
    case ReducedLut::Kind::kLut: {
      ++hw.learned_luts;
      std::vector<Net> ins;
      for (uint32_t p : r.input_list()) ins.push_back(in(p));
      return nl.lut(ins, r.table);
    }
    case ReducedLut::Kind::kConst:
      break;
  }
  throw InternalError("reduced_lut_net: a constant table has no net");
}

// Reduced tables and liveness of one layer. Layouts: a dense layer's inputs are bit l * N + n of
// its flat input planes and its outputs bit b * O + o; a conv layer's inputs are its window
// positions (l * window + w) and its outputs bit b * C + o of one pixel; a pool layer's inputs and
// outputs are bit l * C + c of one pixel. The bits of one pixel are the same at every pixel.
struct LayerAnalysis {
  std::vector<ReducedLut> luts;   // index c * input_levels + l
  std::vector<uint8_t> live_out;  // output bits read downstream (all scores of an argmax layer)
  std::vector<uint8_t> live_in;   // input bits read by a live neuron
  std::vector<uint8_t> live_neuron;
};

bool neuron_live(const Layer& layer, const std::vector<uint8_t>& live_out, int o) {
  if (layer.output == LayerOutput::kArgmax) return true;
  for (int b = 0; b < layer.output_levels; ++b)
    if (live_out[static_cast<size_t>(b) * layer.num_outputs + o]) return true;
  return false;
}

// Which bits of an activation of `shape` (in its producer's output layout: flat for a dense
// producer, per pixel for a stream producer) `reader` reads.
std::vector<uint8_t> bits_read_by(const Layer& reader, const LayerAnalysis& r,
                                  const ActivationShape& shape, bool stream_producer) {
  if (reader.kind == LayerKind::kMaxPool) return r.live_in;
  if (reader.kind == LayerKind::kLutDense && !stream_producer) return r.live_in;
  std::vector<uint8_t> live(static_cast<size_t>(shape.levels) * shape.channels, 0);
  for (int l = 0; l < shape.levels; ++l)
    for (int c = 0; c < shape.channels; ++c) {
      uint8_t any = 0;
      if (reader.kind == LayerKind::kLutConv2d) {
        for (int w = 0; w < reader.kernel_h * reader.kernel_w; ++w)
          any |= r.live_in[static_cast<size_t>(l) * reader.num_inputs +
                           static_cast<size_t>(c) * reader.kernel_h * reader.kernel_w + w];
      } else {  // a dense layer reading the flattened frame
        for (int y = 0; y < shape.height; ++y)
          for (int x = 0; x < shape.width; ++x)
            any |= r.live_in[static_cast<size_t>(l * shape.plane_bits() + shape.index(c, y, x))];
      }
      live[static_cast<size_t>(l) * shape.channels + c] = any;
    }
  return live;
}

std::vector<LayerAnalysis> analyze(const Model& model) {
  const std::vector<ActivationShape> shapes = infer_shapes(model);
  std::vector<LayerAnalysis> result(model.layers.size());
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const auto& layer = model.layers[i];
    auto& a = result[i];
    a.luts.reserve(layer.tables.size());
    for (size_t c = 0; c < layer.num_connections(); ++c)
      for (int l = 0; l < layer.input_levels; ++l)
        a.luts.push_back(reduce_lut({&layer.lut_inputs[c * layer.k], static_cast<size_t>(layer.k)},
                                    layer.tables[c * layer.input_levels + l]));
  }
  // Backwards: a layer's output bit is live when a live neuron of the next layer reads it.
  for (size_t i = model.layers.size(); i-- > 0;) {
    const auto& layer = model.layers[i];
    auto& a = result[i];
    if (i + 1 == model.layers.size()) {
      a.live_out.assign(static_cast<size_t>(layer.num_outputs), 1);
    } else {
      a.live_out = bits_read_by(model.layers[i + 1], result[i + 1], shapes[i + 1],
                                layer.kind != LayerKind::kLutDense);
    }
    if (layer.kind == LayerKind::kMaxPool) {
      // Output level l of a pooled code depends on input levels 0..l.
      const int levels = shapes[i].levels, channels = shapes[i].channels;
      a.live_in.assign(a.live_out.size(), 0);
      for (int c = 0; c < channels; ++c)
        for (int l = levels; l-- > 0;)
          a.live_in[static_cast<size_t>(l) * channels + c] =
              a.live_out[static_cast<size_t>(l) * channels + c] |
              (l + 1 < levels ? a.live_in[static_cast<size_t>(l + 1) * channels + c] : 0);
      continue;
    }
    a.live_in.assign(static_cast<size_t>(layer.input_levels) * layer.num_inputs, 0);
    a.live_neuron.assign(static_cast<size_t>(layer.num_outputs), 0);
    for (int o = 0; o < layer.num_outputs; ++o) {
      if (!neuron_live(layer, a.live_out, o)) continue;
      a.live_neuron[o] = 1;
      for (uint32_t c = layer.conn_offset[o]; c < layer.conn_offset[o + 1]; ++c)
        for (int l = 0; l < layer.input_levels; ++l)
          for (uint32_t p : a.luts[static_cast<size_t>(c) * layer.input_levels + l].input_list())
            a.live_in[static_cast<size_t>(l) * layer.num_inputs + p] = 1;
    }
  }
  return result;
}

// value >= t for an unsigned word `bits` whose value never exceeds max_value: an AND/OR chain
// from the lowest set bit of t, a few LUTs, no carry chain.
Net greater_equal(Netlist& nl, const std::vector<Net>& bits, int64_t max_value, int64_t t) {
  if (t <= 0) return kConst1;
  if (t > max_value) return kConst0;
  Net r = kConst1;
  for (size_t i = 0; i < bits.size() && i < 63; ++i)
    r = ((t >> i) & 1) ? nl.and2(bits[i], r) : nl.or2(bits[i], r);
  return r;
}

// Picks `wanted` of the positions 1..available, spread evenly.
std::vector<int> spread_positions(int wanted, int available) {
  std::vector<int> positions;
  wanted = std::clamp(wanted, 0, available);
  for (int j = 1; j <= wanted; ++j) positions.push_back(j * (available + 1) / (wanted + 1));
  return positions;
}

std::string sanitize(const std::string& text) {
  std::string out;
  for (char ch : text) out += (ch >= 32 && ch < 127) ? ch : '?';
  return out;
}

class Generator {
 public:
  Generator(const Model& model, const HdlOptions& options, std::vector<Netlist>* netlists)
      : model_(model), options_(options), netlists_(netlists), analysis_(analyze(model)) {}

  HdlDesign run() {
    HdlDesign d =
        model_.layers.front().kind == LayerKind::kLutDense ? run_vector() : run_streaming();
    std::string verilog = file_header(d) + d.modules.back().verilog;
    for (size_t m = 0; m + 1 < d.modules.size(); ++m) verilog += "\n" + d.modules[m].verilog;
    d.verilog = std::move(verilog);
    if (options_.xilinx_primitives) d.simulation_models = xilinx_lut_simulation_models();
    return d;
  }

 private:
  HdlDesign start_design() const {
    HdlDesign d;
    d.top_name = options_.top_name;
    d.input_encoder = options_.input_encoder;
    d.num_classes = model_.num_classes;
    d.class_width = std::max(1, bit_width(model_.num_classes - 1));
    return d;
  }

  void add_argmax(HdlDesign& d) const {
    const int scores = d.num_classes * d.score_width;
    d.modules.push_back({name("argmax"), "argmax", -1, argmax_module(d),
                         stub(name("argmax"), fmt::format("input wire [{}:0] scores", scores - 1),
                              fmt::format("[{}:0] class_out,\n  output reg [{}:0] scores_out",
                                          d.class_width - 1, scores - 1),
                              0)});
  }

  // The input stage for `pixels` pixels per input word, and its ModuleInfo.
  void add_input_stage(HdlDesign& d, int pixels, const std::vector<uint8_t>& live) {
    const int num_bits = pixels * static_cast<int>(model_.input.thresholds.size());
    d.input_width = options_.input_encoder ? 8 * pixels : num_bits;
    d.input_live = live;
    const std::string data_port = fmt::format("input wire [{}:0] data", d.input_width - 1);
    d.modules.push_back({name("input"), "input", -1, input_module(d, pixels),
                         stub(name("input"), data_port, "x", num_bits)});
  }

  // One input vector per clock: every layer dense. With tiled layers, one input vector every
  // initiation_interval clocks (in_ready).
  HdlDesign run_vector() {
    HdlDesign d = start_design();
    const int num_bits = model_.input.num_bits();
    add_input_stage(d, model_.input.num_pixels(), analysis_.front().live_in);
    for (const Layer& layer : model_.layers) d.in_ready |= layer.tiling.enabled();
    int depth = 1;
    int layer_inputs = num_bits;
    std::string prev = "x0", prev_valid = "x0_valid";
    for (size_t i = 0; i < model_.layers.size(); ++i) {
      LayerHardware hw;
      if (model_.layers[i].tiling.enabled()) {
        add_tiled_layer(d, static_cast<int>(i), hw, name(fmt::format("layer{}", i)));
      } else {
        std::string text =
            layer_module(static_cast<int>(i), hw, d, name(fmt::format("layer{}", i)));
        d.modules.push_back({hw.module, fmt::format("layer {}", i), static_cast<int>(i),
                             std::move(text),
                             stub(hw.module, fmt::format("input wire [{}:0] x", layer_inputs - 1),
                                  "y", hw.output_width)});
      }
      depth += hw.latency_cycles;
      hw.register_depth = depth;
      if (d.in_ready) {  // the paced top wires every layer's valid
        hw.valid_signal = fmt::format("layer{}_valid", i);
        hw.input_signal = prev;
        hw.input_valid = prev_valid;
        prev = hw.output_signal;
        prev_valid = hw.valid_signal;
        d.initiation_interval = std::max(d.initiation_interval, hw.busy_cycles);
      }
      layer_inputs = hw.output_width;
      d.layers.push_back(std::move(hw));
    }
    d.latency_cycles = depth + 1;
    add_argmax(d);
    d.modules.push_back(
        {options_.top_name, "top", -1, d.in_ready ? paced_top_module(d) : top_module(d), ""});
    return d;
  }

  // A tiled layer: its array module (the netlist, layer `index`) and the tile sequencer
  // `sequencer` around it (hw.module and hw.sequencer_module; a conv stage replaces hw.module by
  // its window stage, which holds the sequencer). Dense: the sequencer reads the layer's input
  // vector; conv: the window of one output pixel, and its outputs are that pixel's channels.
  void add_tiled_layer(HdlDesign& d, int index, LayerHardware& hw, const std::string& sequencer) {
    const Layer& layer = model_.layers[index];
    const Tiling& t = layer.tiling;
    const bool conv = layer.kind == LayerKind::kLutConv2d;
    TiledLayerText text;
    text.name = sequencer;
    text.array_module = name(fmt::format("layer{}_array", index));
    std::string array_stub;
    const std::string array_text = tiled_array_module(index, hw, d, text, &array_stub);
    d.modules.push_back(
        {text.array_module, fmt::format("layer {}", index), index, array_text, array_stub});
    hw.module = text.name;
    hw.sequencer_module = text.name;
    hw.array_module = text.array_module;
    hw.latency_cycles = tiled_layer_latency(t.tile_pairs(), text.array_stages);
    const char* frame = conv ? "window" : "frame";
    text.unit = frame;
    text.comment = fmt::format(
        "Layer {0} ({12}, tiled): {1} tiles of {2} {13} x {3} tiles of {4} {14}; one "
        "array of\n{2} x {4} K = {5} LUTs ({6} kept positions, {7} weight bit(s) each from the "
        "weight memory)\nreused over the {8} tile pairs, one pair per clock (module {9}).\n"
        "A {15} taken with in_valid is latched; out_valid comes {10} clocks later, and from "
        "then y\nholds the {15}'s outputs for {11} clock(s) at least. The next {15} may come {8} "
        "clocks\nafter the previous one, not earlier.\n",
        index, t.tm, t.tile_outputs(), t.tn, t.tile_inputs(), t.k, hw.weight_word_bits / t.n, t.n,
        t.tile_pairs(), text.array_module, hw.latency_cycles, t.tn, layer_kind_name(layer.kind),
        conv ? "output channels" : "outputs", conv ? "window positions" : "inputs", frame);
    if (conv)
      text.comment +=
          fmt::format("x[l*{0}+w] = level l of window position w = (c * {1} + ky) * {2} + kx.\n",
                      layer.num_inputs, layer.kernel_h, layer.kernel_w);
    text.comment += layer.output == LayerOutput::kArgmax
                        ? fmt::format("y[{0}*o+{1}:{0}*o] = acc of output o (unsigned).",
                                      d.score_width, d.score_width - 1)
                        : fmt::format("y[b*{0}+o] = residual-sign bit b of output {1}o.",
                                      layer.num_outputs, conv ? "channel " : "");
    d.modules.push_back(
        {text.name, fmt::format("layer {} tiles", index), -1, tiled_layer_module(text),
         stub(text.name,
              fmt::format("input wire rst,\n  input wire in_valid,\n  input wire [{}:0] x",
                          layer.input_levels * layer.num_inputs - 1),
              fmt::format("out_valid,\n  output reg [{}:0] y", hw.output_width - 1), 0)});
  }

  // Pixels stream in, one per clock (with tiled layers one every pixel_interval clocks, in_ready):
  // conv and pool stages (line buffer, window, LUT array, tile sequencer or pooling), then a
  // collector and the dense tail of run_vector.
  HdlDesign run_streaming() {
    HdlDesign d = start_design();
    d.streaming = true;
    const std::vector<ActivationShape> shapes = infer_shapes(model_);
    const ActivationShape& in = shapes.front();
    if (model_.input.shape.size() < 2)
      throw Error(
          "a model that starts with a conv or pool layer needs an image input shape "
          "(C x H x W or H x W)");
    d.frame_pixels = in.height * in.width;
    d.pixel_interval = stream_pixel_interval(shapes, d.frame_pixels);
    d.initiation_interval = d.pixel_interval * d.frame_pixels;
    for (const Layer& layer : model_.layers) d.in_ready |= layer.tiling.enabled();
    add_input_stage(d, in.channels / in.group,
                    bits_read_by(model_.layers[0], analysis_[0], in,
                                 /*stream_producer=*/true));
    // The timing model: cycle at which each output of the current stage is valid, for one frame
    // whose pixels enter on cycles 0, R, 2R, ... (R = pixel_interval); the input register adds
    // one.
    std::vector<long long> times;
    for (int p = 0; p < d.frame_pixels; ++p)
      times.push_back(static_cast<long long>(p) * d.pixel_interval + 1);
    StreamSignal prev{"x0", "x0_valid", in.levels * in.channels, true};
    for (size_t i = 0; i < model_.layers.size(); ++i) {
      const Layer& layer = model_.layers[i];
      if (layer.kind != LayerKind::kLutDense && !prev.stream)
        throw Error(
            fmt::format("layer {} is a {} layer after a dense layer: streaming hardware "
                        "has conv and pool layers only before the dense ones",
                        i, layer_kind_name(layer.kind)));
      LayerHardware hw;
      hw.kind = layer.kind;
      hw.output_signal = fmt::format("layer{}_y", i);
      hw.valid_signal = fmt::format("layer{}_valid", i);
      if (layer.kind == LayerKind::kLutDense) {
        if (prev.stream) prev = add_flatten(d, static_cast<int>(i), shapes[i], prev, times);
        if (layer.tiling.enabled()) {
          add_tiled_layer(d, static_cast<int>(i), hw, name(fmt::format("layer{}", i)));
        } else {
          d.modules.push_back(
              {"", fmt::format("layer {}", i), static_cast<int>(i),
               layer_module(static_cast<int>(i), hw, d, name(fmt::format("layer{}", i))), ""});
          d.modules.back().name = hw.module;
          d.modules.back().stub = stub(hw.module, fmt::format("input wire [{}:0] x", prev.bits - 1),
                                       "y", hw.output_width);
        }
        times = {times.back() + hw.latency_cycles};
      } else {
        times = add_window_stage(d, static_cast<int>(i), shapes[i], shapes[i + 1], hw, times);
      }
      hw.input_signal = prev.data;
      hw.input_valid = prev.valid;
      prev = {hw.output_signal, hw.valid_signal, hw.output_width,
              layer.kind != LayerKind::kLutDense};
      d.layers.push_back(std::move(hw));
    }
    d.latency_cycles = static_cast<int>(times.back() + 1);  // the first pixel enters on cycle 0
    add_argmax(d);
    d.modules.push_back({options_.top_name, "top", -1, streaming_top_module(d), ""});
    return d;
  }

  // The cycles between two input pixels, R. Every stage emits at most one output pixel per input
  // pixel, each a fixed latency after the input pixel that completed its window, so the windows
  // (or, behind a collector, the frames) that reach a layer are triggered by distinct input
  // pixels, and two of them that are g input pixels apart are at least g * R cycles apart. A
  // tiled layer must have finished one window (frame) before the next comes: R * g >= its tile
  // pairs, g the fewest input pixels between two consecutive windows of the layer over a stream of
  // frames (1 for a stride-1 conv on the input, the stride behind strided stages, frame_pixels for
  // a dense layer). R = the largest ceil(pairs / g), 1 without tiled layers.
  int stream_pixel_interval(const std::vector<ActivationShape>& shapes, int frame_pixels) const {
    std::vector<long long> t(static_cast<size_t>(frame_pixels));  // input pixel of each event
    for (int p = 0; p < frame_pixels; ++p) t[static_cast<size_t>(p)] = p;
    int r = 1;
    for (size_t i = 0; i < model_.layers.size(); ++i) {
      const Layer& layer = model_.layers[i];
      if (layer.kind == LayerKind::kLutDense) {
        t = {t.back()};  // one frame per frame's last pixel
      } else {
        const ActivationShape& in = shapes[i];
        t = window_output_times(
            {in.height, in.width, layer.kernel_h, layer.kernel_w, layer.stride, 1}, t, 0);
      }
      if (!layer.tiling.enabled()) continue;
      long long gap = frame_pixels + t.front() - t.back();  // to the next frame's first window
      for (size_t k = 0; k + 1 < t.size(); ++k) gap = std::min(gap, t[k + 1] - t[k]);
      const long long pairs = layer.tiling.tile_pairs();
      r = std::max(r, static_cast<int>((pairs + gap - 1) / gap));
    }
    return r;
  }

  // A wire of the streaming top and its valid; `stream` when it carries pixels.
  struct StreamSignal {
    std::string data, valid;
    int bits = 0;
    bool stream = false;
  };

  // The collector in front of the first dense layer after the stream stages.
  StreamSignal add_flatten(HdlDesign& d, int index, const ActivationShape& shape,
                           const StreamSignal& prev, std::vector<long long>& times) {
    const int pixels = shape.height * shape.width;
    const std::string module = name(fmt::format("flatten{}", index));
    const std::string comment = fmt::format(
        "Collects the {} pixels of a frame ({} channels x {} levels each) into the flat input of "
        "layer {}:\nout_x[l*{} + c*{} + p] = level l of channel c of pixel p (row-major).",
        pixels, shape.channels, shape.levels, index, shape.channels * pixels, pixels);
    d.modules.push_back({module, fmt::format("flatten {}", index), -1,
                         flatten_module(module, pixels, shape.channels, shape.levels, comment),
                         ""});
    d.flattens.push_back({module, index, prev.data, prev.valid});
    times = {times.back() + 1};
    return {fmt::format("flat{}_x", index), fmt::format("flat{}_valid", index),
            pixels * shape.channels * shape.levels, false};
  }

  // A conv or pool stage; returns the output times of the timing model.
  std::vector<long long> add_window_stage(HdlDesign& d, int index, const ActivationShape& in,
                                          const ActivationShape& out, LayerHardware& hw,
                                          const std::vector<long long>& times) {
    const Layer& layer = model_.layers[index];
    const StreamWindow window{in.height,      in.width,     layer.kernel_h,
                              layer.kernel_w, layer.stride, in.levels * in.channels};
    hw.pixels = out.height * out.width;
    hw.live = analysis_[index].live_out;
    const std::string module = name(fmt::format("layer{}", index));
    const std::string geometry = fmt::format(
        "{}x{} window, stride {}, over a {}x{} input of {} channels x {} levels; one output "
        "pixel\nper completed window ({}x{} outputs), in raster order.",
        layer.kernel_h, layer.kernel_w, layer.stride, in.height, in.width, in.channels, in.levels,
        out.height, out.width);
    if (layer.kind == LayerKind::kMaxPool) {
      hw.module = module;
      hw.output_width = in.levels * in.channels;
      hw.latency_cycles = 1;
      d.modules.push_back(
          {module, fmt::format("layer {}", index), -1,
           pool_stream_module(module, window, in.channels, in.levels,
                              fmt::format("Layer {} (max_pool): ", index) + geometry +
                                  "\nPer channel the largest residual-sign code "
                                  "(level 0 most significant). Latency 1 cycle."),
           ""});
      return window_output_times(window, times, 1);
    }
    std::vector<WindowTap> taps;
    const int area = layer.kernel_h * layer.kernel_w;
    for (int l = 0; l < in.levels; ++l)
      for (int w = 0; w < layer.num_inputs; ++w) {
        const int c = w / area, ky = w % area / layer.kernel_w, kx = w % layer.kernel_w;
        taps.push_back({window.back(ky, kx), l * in.channels + c});
      }
    if (layer.tiling.enabled()) {
      const std::string sequencer = name(fmt::format("layer{}_tiles", index));
      add_tiled_layer(d, index, hw, sequencer);
      d.modules.push_back(
          {module, fmt::format("layer {} window", index), -1,
           tiled_conv_stream_module(
               module, window, taps, sequencer, hw.output_width,
               fmt::format("Layer {} (lut_conv2d, tiled): line buffer and ", index) + geometry +
                   fmt::format("\nx[l*{} + w] = level l of window position w, latched by the "
                               "tile sequencer {}; latency {} cycle(s).\nWindows must come at "
                               "least {} cycles apart (the top's in_ready paces the pixels).",
                               layer.num_inputs, sequencer, hw.latency_cycles, hw.busy_cycles)),
           ""});
      hw.module = module;
      return window_output_times(window, times, hw.latency_cycles);
    }
    const std::string array = name(fmt::format("layer{}_array", index));
    const std::string array_text = layer_module(index, hw, d, array);
    d.modules.push_back(
        {array, fmt::format("layer {}", index), index, array_text,
         stub(array, fmt::format("input wire [{}:0] x", in.levels * layer.num_inputs - 1), "y",
              hw.output_width)});
    d.modules.push_back(
        {module, fmt::format("layer {} window", index), -1,
         conv_stream_module(module, window, taps, array, hw.latency_cycles, hw.output_width,
                            fmt::format("Layer {} (lut_conv2d): line buffer and ", index) +
                                geometry +
                                fmt::format("\nx[l*{} + w] = level l of window position "
                                            "w; latency {} cycle(s).",
                                            layer.num_inputs, hw.latency_cycles)),
         ""});
    hw.array_module = array;
    hw.module = module;
    return window_output_times(window, times, hw.latency_cycles);
  }

  std::string streaming_top_module(const HdlDesign& d) const {
    std::ostringstream out;
    const ActivationShape in = input_activation_shape(model_.input);
    const int r = d.pixel_interval;
    out << "//\n// Top module " << options_.top_name << ": a pixel stream, one pixel per "
        << (d.in_ready ? fmt::format("{} clock(s) at most (tiled layers).\n", r) : "clock.\n");
    out << fmt::format(
        "// A frame is {}x{} pixels in raster order; in_data carries all {} channel(s) of one "
        "pixel:\n",
        in.height, in.width, in.channels / in.group);
    if (d.input_encoder)
      out << "// in_data[8c+7:8c] = channel c (8 bits), encoded in hardware.\n";
    else
      out << fmt::format("// in_data[c*{0}+j] = (channel c >= threshold j).\n", in.group);
    if (d.in_ready)
      out << fmt::format(
          "// A pixel is taken on a clock with in_valid and in_ready; hold in_valid and in_data "
          "until\n// then. in_ready rises {0} clock(s) after a pixel was taken: every stage then "
          "sees its\n// pixels (windows) at least {0} clocks apart, and every tiled layer has "
          "finished one window\n// (or frame) before the next reaches it. Gaps are allowed "
          "anywhere, and frames may follow\n// back to back, so a frame takes {0} x {1} = {2} "
          "cycles at best (the initiation interval).\n// out_valid, out_class and out_scores come "
          "{3} cycles after the clock that took the frame's\n// first pixel when its pixels are "
          "taken every {0} clocks.\n",
          r, d.frame_pixels, d.initiation_interval, d.latency_cycles);
    else
      out << fmt::format(
          "// in_valid marks a pixel; gaps are allowed, and frames may follow back to back, so a "
          "frame\n// takes {} cycles at best (the initiation interval). out_valid, out_class and "
          "out_scores\n// come {} cycles after the frame's first pixel when its pixels come back "
          "to back.\n",
          d.frame_pixels, d.latency_cycles);
    out << fmt::format(
        "// out_class is the index of the first maximum of the {} scores; score c is "
        "out_scores[{}*c+{}:{}*c].\n// rst clears the valid signals{} the window counters{}.\n",
        d.num_classes, d.score_width, d.score_width - 1, d.score_width, d.in_ready ? "," : " and",
        d.in_ready ? " and the rate limiter" : "");
    out << fmt::format(
        "module {} (\n  input wire clk,\n  input wire rst,\n  input wire in_valid,\n  input "
        "wire [{}:0] in_data,\n{}  output reg out_valid,\n  output wire [{}:0] out_class,\n  "
        "output wire [{}:0] out_scores\n);\n",
        options_.top_name, d.input_width - 1, d.in_ready ? "  output wire in_ready,\n" : "",
        d.class_width - 1, d.num_classes * d.score_width - 1);
    if (d.in_ready)
      out << rate_limiter(r, "pixel");
    else
      out << "  reg x0_valid;\n  always @(posedge clk) x0_valid <= rst ? 1'b0 : in_valid;\n";
    out << fmt::format("  wire [{}:0] x0;\n", in.channels - 1);
    out << fmt::format("  {} u_input (.clk(clk), .data(in_data), .x(x0));\n", name("input"));
    for (const auto& hw : d.layers) {
      for (const auto& f : d.flattens)
        if (d.layers[static_cast<size_t>(f.layer)].output_signal == hw.output_signal)
          out << fmt::format(
              "  wire flat{0}_valid;\n  wire [{1}:0] flat{0}_x;\n"
              "  {2} u_flatten{0} (.clk(clk), .rst(rst), .in_valid({3}), .in_pixel({4}), "
              ".out_valid(flat{0}_valid), .out_x(flat{0}_x));\n",
              f.layer,
              model_.layers[static_cast<size_t>(f.layer)].num_inputs *
                      model_.layers[static_cast<size_t>(f.layer)].input_levels -
                  1,
              f.module, f.input_valid, f.input);
      out << fmt::format("  wire {};\n  wire [{}:0] {};\n", hw.valid_signal, hw.output_width - 1,
                         hw.output_signal);
      const std::string instance = hw.output_signal.substr(0, hw.output_signal.size() - 2);
      if (hw.kind != LayerKind::kLutDense) {
        out << fmt::format(
            "  {} u_{} (.clk(clk), .rst(rst), .in_valid({}), .in_pixel({}), .out_valid({}), "
            ".out_pixel({}));\n",
            hw.module, instance, hw.input_valid, hw.input_signal, hw.valid_signal,
            hw.output_signal);
        continue;
      }
      out << dense_instance(hw);
    }
    const auto& last = d.layers.back();
    out << fmt::format(
        "  always @(posedge clk) out_valid <= rst ? 1'b0 : {};\n"
        "  {} u_argmax (.clk(clk), .scores({}), .class_out(out_class), .scores_out(out_scores));\n",
        last.valid_signal, name("argmax"), last.output_signal);
    out << "endmodule\n";
    return out.str();
  }

  // A dense layer in a top that wires valids: the module and, for an unrolled layer, the shift
  // register that carries its input's valid through its latency.
  static std::string dense_instance(const LayerHardware& hw) {
    const std::string instance = hw.output_signal.substr(0, hw.output_signal.size() - 2);
    if (hw.tiled)
      return fmt::format(
          "  {} u_{} (.clk(clk), .rst(rst), .in_valid({}), .x({}), .out_valid({}), .y({}));\n",
          hw.module, instance, hw.input_valid, hw.input_signal, hw.valid_signal, hw.output_signal);
    std::string out;
    const int lat = hw.latency_cycles;
    out += fmt::format("  {} u_{} (.clk(clk), .x({}), .y({}));\n", hw.module, instance,
                       hw.input_signal, hw.output_signal);
    out += fmt::format("  reg [{}:0] {}_q;\n  always @(posedge clk)\n", lat - 1, hw.valid_signal);
    if (lat == 1)
      out += fmt::format("    {0}_q <= rst ? 1'b0 : {1};\n", hw.valid_signal, hw.input_valid);
    else
      out += fmt::format("    {0}_q <= rst ? {1}'d0 : {{{0}_q[{2}:0], {3}}};\n", hw.valid_signal,
                         lat, lat - 2, hw.input_valid);
    out += fmt::format("  assign {0} = {0}_q[{1}];\n", hw.valid_signal, lat - 1);
    return out;
  }

  // The top of a design with tiled layers: one input vector every initiation_interval clocks,
  // taken when in_valid and in_ready; every layer's valid wired as in the streaming top.
  std::string paced_top_module(const HdlDesign& d) const {
    std::ostringstream out;
    const int lat = d.latency_cycles, ii = d.initiation_interval;
    out << "//\n// Top module " << options_.top_name
        << fmt::format(": takes one input vector every {} clock(s) (tiled layers).\n", ii);
    out << input_description(d);
    out << fmt::format(
        "// An input is taken on a clock with in_valid and in_ready; hold in_valid and in_data "
        "until\n// then. in_ready rises {0} clock(s) after an input was taken (the initiation "
        "interval:\n// every tiled layer has finished a frame before the next one reaches it).\n"
        "// Latency: out_valid, out_class and out_scores come {1} clock cycles after the clock "
        "that\n// took the input. out_class is the index of the first maximum of the {2} scores; "
        "score c is\n// out_scores[{3}*c+{4}:{3}*c]. rst clears the valid signals and the rate "
        "limiter.\n",
        ii, lat, d.num_classes, d.score_width, d.score_width - 1);
    out << fmt::format(
        "module {} (\n  input wire clk,\n  input wire rst,\n  input wire in_valid,\n  input "
        "wire [{}:0] in_data,\n  output wire in_ready,\n  output reg out_valid,\n  output wire "
        "[{}:0] out_class,\n  output wire [{}:0] out_scores\n);\n",
        options_.top_name, d.input_width - 1, d.class_width - 1, d.num_classes * d.score_width - 1);
    out << rate_limiter(ii, "input");
    out << fmt::format("  wire [{}:0] x0;\n", model_.input.num_bits() - 1);
    out << fmt::format("  {} u_input (.clk(clk), .data(in_data), .x(x0));\n", name("input"));
    for (const auto& hw : d.layers) {
      out << fmt::format("  wire {};\n  wire [{}:0] {};\n", hw.valid_signal, hw.output_width - 1,
                         hw.output_signal);
      out << dense_instance(hw);
    }
    const auto& last = d.layers.back();
    out << fmt::format(
        "  always @(posedge clk) out_valid <= rst ? 1'b0 : {};\n"
        "  {} u_argmax (.clk(clk), .scores({}), .class_out(out_class), .scores_out(out_scores));\n",
        last.valid_signal, name("argmax"), last.output_signal);
    out << "endmodule\n";
    return out.str();
  }

  // in_ready, high `interval` clocks after an input was taken, and x0_valid, the taken input
  // registered.
  static std::string rate_limiter(int interval, const char* what) {
    std::string out;
    if (interval > 1) {
      const int gw = bit_width(interval - 1);
      out = fmt::format(
          "  // Rate limiter: clocks until the next {3} may be taken.\n"
          "  reg [{0}:0] wait_q;\n  assign in_ready = wait_q == {1}'d0;\n"
          "  always @(posedge clk)\n    if (rst) wait_q <= {1}'d0;\n"
          "    else if (in_valid && in_ready) wait_q <= {1}'d{2};\n"
          "    else if (!in_ready) wait_q <= wait_q - {1}'d1;\n",
          gw - 1, gw, interval - 1, what);
    } else {
      out = "  assign in_ready = 1'b1;\n";
    }
    return out +
           "  reg x0_valid;\n  always @(posedge clk) x0_valid <= rst ? 1'b0 : in_valid && "
           "in_ready;\n";
  }

  // What in_data carries, for the header of a top that takes whole input vectors.
  std::string input_description(const HdlDesign& d) const {
    if (d.input_encoder)
      return fmt::format(
          "// in_data[8p+7:8p] = pixel p (8 bits, {} pixels); encoded in "
          "hardware.\n",
          model_.input.num_pixels());
    return fmt::format(
        "// in_data = the {} encoded input bits (bit p*T+j = pixel p >= "
        "threshold j).\n",
        d.input_width);
  }

  std::string name(const std::string& suffix) const { return options_.top_name + "_" + suffix; }

  // An empty module with the ports of a clocked stage (width 0: `output` is a full declaration).
  static std::string stub(const std::string& module, const std::string& input,
                          const std::string& output, int width) {
    const std::string out = width > 0 ? fmt::format("[{}:0] {}", width - 1, output) : output;
    return fmt::format(
        "(* blackbox *)\nmodule {} (\n  input wire clk,\n  {},\n  output reg {}\n);\n"
        "endmodule\n",
        module, input, out);
  }

  std::string finish(Netlist nl, const std::string& module, std::string comment) {
    std::string text = emit_module(nl, module, {options_.xilinx_primitives, std::move(comment)});
    if (netlists_) netlists_->push_back(std::move(nl));
    return text;
  }

  // Registers in_data (`pixels` pixels), through the pixel encoder when enabled. Bits no layer
  // reads stay 0.
  std::string input_module(HdlDesign& d, int pixels) {
    Netlist nl;
    const int data = nl.add_input("data", d.input_width);
    const auto& thresholds = model_.input.thresholds;
    const int num_bits = pixels * static_cast<int>(thresholds.size());
    const int x = nl.add_output("x", num_bits);
    const auto& live = d.input_live;
    const int t = static_cast<int>(thresholds.size());
    for (int i = 0; i < num_bits; ++i) {
      Net bit = kConst0;
      if (live[i] && options_.input_encoder) {
        const int pixel = i / t;
        std::vector<Net> pixel_bits;
        for (int b = 0; b < 8; ++b) pixel_bits.push_back(nl.input(data, 8 * pixel + b));
        bit = greater_equal(nl, pixel_bits, 255, thresholds[i % t]);
        ++d.encoder_compares;
      } else if (live[i]) {
        bit = nl.input(data, i);
      }
      nl.set_output(x, i, bit);
    }
    std::string comment =
        options_.input_encoder
            ? fmt::format(
                  "Input stage: pixel p = data[8p+7:8p]; x[p*{0}+j] = (pixel p >= "
                  "threshold j), registered.\nThresholds:",
                  t)
            : "Input stage: registers the input bits (x = data).";
    if (options_.input_encoder)
      for (uint8_t th : thresholds) comment += fmt::format(" {}", th);
    comment += "\nBits that no LUT of layer 0 reads are tied to 0.";
    return finish(std::move(nl), name("input"), comment);
  }

  // The LUT array of a dense layer, or of a conv layer over its window (module `module`).
  std::string layer_module(int index, LayerHardware& hw, HdlDesign& d, const std::string& module) {
    const auto& layer = model_.layers[index];
    const auto& a = analysis_[index];
    const bool argmax = layer.output == LayerOutput::kArgmax;
    const int levels = layer.input_levels;
    hw.module = module;
    hw.output_signal = fmt::format("layer{}_y", index);
    hw.live = a.live_out;

    Netlist nl;
    const int x = nl.add_input("x", levels * layer.num_inputs);

    // The pipeline registers must line up across neurons, so the deepest tree sets the stages.
    int stages = 0;
    if (options_.popcount != PopcountStyle::kFlatSum)
      for (int o = 0; o < layer.num_outputs; ++o)
        if (a.live_neuron[o])
          stages =
              std::max(stages, compression_stages(shape_heaps(layer, a, o), options_.popcount));
    HeapPipeline pipeline{stages, spread_positions(options_.adder_pipeline_stages, stages + 1)};
    hw.compression_stages = stages;
    hw.latency_cycles = 1 + static_cast<int>(pipeline.register_after.size());

    std::vector<std::vector<Net>> values(static_cast<size_t>(layer.num_outputs));
    std::vector<int64_t> max_values(static_cast<size_t>(layer.num_outputs), 0);
    for (int o = 0; o < layer.num_outputs; ++o) {
      if (!a.live_neuron[o]) continue;
      ++hw.live_neurons;
      const uint32_t first = layer.conn_offset[o], last = layer.conn_offset[o + 1];
      nl.comment(
          fmt::format("neuron {}: {} connection{}", o, last - first, last - first == 1 ? "" : "s"));
      // One heap per input level, weighted by the level weight when summed.
      std::vector<ScaledHeap> heaps(static_cast<size_t>(levels));
      for (int l = 0; l < levels; ++l) heaps[l].multiplier = layer.level_weights[l];
      int64_t constant = 0;
      for (uint32_t c = first; c < last; ++c) {
        for (int l = 0; l < levels; ++l) {
          const ReducedLut& r = a.luts[static_cast<size_t>(c) * levels + l];
          auto in = [&](uint32_t p) { return nl.input(x, l * layer.num_inputs + p); };
          if (r.kind == ReducedLut::Kind::kConst) {
            ++hw.constant_tables;
            if (r.table & 1) constant += layer.level_weights[l];
            continue;
          }
          heaps[l].heap.add(reduced_lut_net(nl, r, in, hw), 0);
        }
      }
      for (const auto& h : heaps) hw.popcount_bits += h.heap.num_bits();
      // An argmax layer outputs the exact accumulator, so its constant joins the sum; a
      // threshold layer moves it into the thresholds instead.
      if (argmax && constant > 0) heaps.push_back({constant_heap(constant), 1});
      for (const auto& h : heaps) max_values[o] += h.multiplier * h.heap.max_value();
      std::vector<Net> sum = sum_heaps(nl, heaps, options_.popcount, pipeline);
      values[o] =
          argmax ? std::move(sum) : threshold_bits(nl, layer, a, o, sum, max_values[o], constant);
    }

    if (argmax) {
      int64_t top = 0;
      for (int64_t m : max_values) top = std::max(top, m);
      d.score_width = std::max(1, bit_width(top));
      const int y = nl.add_output("y", layer.num_outputs * d.score_width);
      for (int o = 0; o < layer.num_outputs; ++o)
        for (int b = 0; b < d.score_width; ++b)
          nl.set_output(y, o * d.score_width + b,
                        b < static_cast<int>(values[o].size()) ? values[o][b] : kConst0);
      hw.output_width = layer.num_outputs * d.score_width;
    } else {
      hw.output_width = layer.output_levels * layer.num_outputs;
      const int y = nl.add_output("y", hw.output_width);
      for (int b = 0; b < layer.output_levels; ++b)
        for (int o = 0; o < layer.num_outputs; ++o) {
          const size_t bit = static_cast<size_t>(b) * layer.num_outputs + o;
          nl.set_output(y, static_cast<int>(bit), a.live_out[bit] ? values[o][b] : kConst0);
        }
    }

    std::string comment =
        fmt::format("Layer {}: {} inputs x {} level(s) -> {} outputs, K = {}, level weights", index,
                    layer.num_inputs, levels, layer.num_outputs, layer.k);
    if (layer.kind == LayerKind::kLutConv2d)
      comment =
          fmt::format(
              "Layer {} (lut_conv2d {}x{}, stride {}): the LUT array of one output pixel; "
              "its inputs are the\nwindow positions w = (c * {} + ky) * {} + kx.\n",
              index, layer.kernel_h, layer.kernel_w, layer.stride, layer.kernel_h, layer.kernel_w) +
          comment;
    for (int64_t w : layer.level_weights) comment += fmt::format(" {}", w);
    comment += fmt::format(
        ".\nx[l*{0}+i] is bit-plane l of input i. Per output o: pc_l = number of connections\n"
        "whose level-l LUT is 1; acc = sum_l weight_l * pc_l, one compressor tree per output\n"
        "({1} counter stage(s)) into a carry-chain adder.\n",
        layer.num_inputs, stages);
    if (argmax)
      comment += fmt::format("y[{0}*o+{1}:{0}*o] = acc of output o (unsigned).", d.score_width,
                             d.score_width - 1);
    else
      comment += fmt::format(
          "y[b*{0}+o] = residual-sign bit b of output o (threshold tree of the model file).",
          layer.num_outputs);
    comment += fmt::format("\nLatency {} cycle(s).", hw.latency_cycles);
    return finish(std::move(nl), hw.module, comment);
  }

  // The array module of tiled layer `index` (ports in TiledLayerText), and the sequencer's
  // parameters in `text`. Per clock, for the tile pair (to, ti) whose input tile is x and whose
  // weight word is w: the PO x PI kept LUTs of every level (K - N activation inputs from x, N
  // weight bits from w, the shared table), per tile output po their level-weighted popcount, and
  // acc[po] = (first ? 0 : acc_q[po]) + that popcount, the exact accumulator of output
  // to * PO + po once its tn input tiles are in (acc_q is acc fed back). Combinational: out = the
  // outputs of tile `to` (registered `to`): per tile output po a threshold unit on acc_q[po],
  // its thresholds and sign those of output to * PO + po from a ROM indexed by `to`
  // (tiled_threshold_units), or the score; with fewer than kThresholdUnitTiles output tiles every
  // output's constant threshold tree instead. write[to] comes a clock after `done` (the last
  // input tile), when acc_q is final; the sequencer then registers tile to's bits from out.
  std::string tiled_array_module(int index, LayerHardware& hw, HdlDesign& d, TiledLayerText& text,
                                 std::string* stub_text) {
    const Layer& layer = model_.layers[index];
    const LayerAnalysis& a = analysis_[index];
    const Tiling& t = layer.tiling;
    const bool argmax = layer.output == LayerOutput::kArgmax;
    const int levels = layer.input_levels, po_count = t.tile_outputs(), pi_count = t.tile_inputs();
    const int activations = t.activation_inputs();
    hw.output_signal = fmt::format("layer{}_y", index);
    hw.live = a.live_out;
    hw.tiled = true;
    hw.tile_pairs = t.tile_pairs();
    hw.busy_cycles = t.tile_pairs();

    // Kept positions in row-major order: word bits q * n .. q * n + n - 1.
    std::vector<int> kept_index(t.mask.size(), -1);
    int kept = 0;
    for (size_t q = 0; q < t.mask.size(); ++q)
      if (t.mask[q]) kept_index[q] = kept++;
    hw.weight_words = t.tile_pairs();
    hw.weight_word_bits = kept * t.n;

    Netlist nl;
    const int x = nl.add_input("x", levels * pi_count);
    const int w = nl.add_input("w", std::max(1, hw.weight_word_bits));
    const int first = nl.add_input("first", 1);
    const int done = nl.add_input("done", 1);
    const int tow = std::max(1, bit_width(t.tm - 1));
    const int to = nl.add_input("to", tow);

    // Per tile output: one heap per input level and the constant of the tables that are 1
    // whatever their inputs (the accumulator is exact: acc = sum over tiles of it all).
    std::vector<std::vector<ScaledHeap>> heaps(static_cast<size_t>(po_count));
    std::vector<int64_t> max_psum(static_cast<size_t>(po_count), 0);
    for (int po = 0; po < po_count; ++po) {
      auto& hp = heaps[po];
      hp.resize(static_cast<size_t>(levels));
      int64_t constant = 0;
      for (int l = 0; l < levels; ++l) hp[l].multiplier = layer.level_weights[l];
      for (int pi = 0; pi < pi_count; ++pi) {
        const size_t position = static_cast<size_t>(po) * pi_count + pi;
        if (!t.mask[position]) continue;
        // Input ids: tile positions 0..PI-1, then the weight bits of this position.
        std::vector<uint32_t> ids;
        ids.push_back(static_cast<uint32_t>(pi));
        for (int j = 1; j < activations; ++j)
          ids.push_back(t.extra_inputs[static_cast<size_t>(j - 1) * pi_count + pi]);
        for (int b = 0; b < t.n; ++b) ids.push_back(static_cast<uint32_t>(pi_count + b));
        for (int l = 0; l < levels; ++l) {
          const ReducedLut r = reduce_lut(ids, t.tables[position * levels + l]);
          auto in = [&](uint32_t id) {
            return id < static_cast<uint32_t>(pi_count)
                       ? nl.input(x, l * pi_count + static_cast<int>(id))
                       : nl.input(w, kept_index[position] * t.n +
                                         static_cast<int>(id - static_cast<uint32_t>(pi_count)));
          };
          if (r.kind == ReducedLut::Kind::kConst) {
            ++hw.constant_tables;
            if (r.table & 1) constant += layer.level_weights[l];
            continue;
          }
          hp[l].heap.add(reduced_lut_net(nl, r, in, hw), 0);
        }
      }
      for (const auto& h : hp) hw.popcount_bits += h.heap.num_bits();
      if (constant > 0) hp.push_back({constant_heap(constant), 1});
      for (const auto& h : hp) max_psum[po] += h.multiplier * h.heap.max_value();
    }
    int64_t max_acc = 0;
    for (int64_t m : max_psum) max_acc = std::max(max_acc, m * t.tn);
    const int aw = std::max(1, bit_width(max_acc));
    hw.accumulator_bits = aw;
    if (argmax) d.score_width = aw;

    // The pipeline registers line up across tile outputs, so the deepest tree sets the stages;
    // the accumulator closes a loop, so they sit in the popcount, before the accumulating adder.
    int stages = 0;
    if (options_.popcount != PopcountStyle::kFlatSum)
      for (const auto& hp : heaps)
        stages = std::max(stages, compression_stages(hp, options_.popcount));
    const HeapPipeline pipeline{stages,
                                spread_positions(options_.adder_pipeline_stages, stages + 1)};
    const int piped = static_cast<int>(pipeline.register_after.size());
    Net first_d = nl.input(first, 0);
    for (int r = 0; r < piped; ++r) first_d = nl.reg(first_d);
    const int acc_q = nl.add_input("acc_q", po_count * aw);
    const int output_width =
        argmax ? layer.num_outputs * aw : layer.output_levels * layer.num_outputs;
    std::vector<std::vector<Net>> acc_next(static_cast<size_t>(po_count));
    int deepest = 0;
    for (int po = 0; po < po_count; ++po) {
      nl.comment(fmt::format("tile output {}: accumulator", po));
      std::vector<Net> carried;  // acc_q, or 0 on the first input tile
      for (int b = 0; b < aw; ++b)
        carried.push_back(nl.and2(nl.input(acc_q, po * aw + b), nl.not_(first_d)));
      std::vector<Net> sum;
      if (piped == 0) {  // one tree: the carried accumulator is one more row of the heap
        std::vector<ScaledHeap> all = heaps[po];
        all.push_back({BitHeap{}, 1});
        for (int b = 0; b < aw; ++b) all.back().heap.add(carried[b], b);
        int used = 0;
        sum = sum_heaps(nl, all, options_.popcount, {}, &used);
        deepest = std::max(deepest, used);
      } else {
        sum =
            nl.sum({{sum_heaps(nl, heaps[po], options_.popcount, pipeline), 0}, {carried, 0}}, aw);
        deepest = stages;
      }
      sum.resize(static_cast<size_t>(aw), kConst0);  // the accumulator never exceeds aw bits
      acc_next[po] = std::move(sum);
    }
    hw.compression_stages = deepest;
    const int acc = nl.add_output("acc", po_count * aw);
    for (int po = 0; po < po_count; ++po)
      for (int b = 0; b < aw; ++b) nl.set_output(acc, po * aw + b, acc_next[po][b]);

    // The output register's inputs: the outputs of tile `to` on its accumulators, and the tile to
    // write, a clock after its last input tile went into the accumulators.
    nl.comment("outputs: the tile to write and its outputs");
    Net done_d = nl.input(done, 0);
    std::vector<Net> to_d;
    for (int b = 0; b < tow; ++b) to_d.push_back(nl.input(to, b));
    for (int r = 0; r <= piped; ++r) {
      done_d = nl.reg(done_d);
      for (Net& b : to_d) b = nl.reg(b);
    }
    std::vector<Net> write(static_cast<size_t>(t.tm));
    for (int tile = 0; tile < t.tm; ++tile) {
      Net e = done_d;
      if (t.tm > 1)
        for (int b = 0; b < tow; ++b) e = nl.and2(e, (tile >> b) & 1 ? to_d[b] : nl.not_(to_d[b]));
      write[tile] = e;
    }
    // out: with threshold units (and for an argmax layer) the outputs of tile `to` (tile output po
    // at bit b * PO + po, a score at po * aw); else every output's constant threshold tree, bit
    // b * O + o on acc_q[o % PO], of which the sequencer takes tile to's.
    const bool units = !argmax && t.tm >= kThresholdUnitTiles;
    const int out_width = argmax || units ? output_width / t.tm : output_width;
    const int out = nl.add_output("out", out_width, /*registered=*/false);
    std::vector<std::vector<Net>> value(static_cast<size_t>(po_count));
    for (int po = 0; po < po_count; ++po)
      for (int b = 0; b < aw; ++b) value[po].push_back(nl.input(acc_q, po * aw + b));
    if (argmax) {
      for (int po = 0; po < po_count; ++po)
        for (int b = 0; b < aw; ++b) nl.set_output(out, po * aw + b, value[po][b]);
    } else if (units) {
      std::vector<int64_t> max_value;
      for (int64_t m : max_psum) max_value.push_back(m * t.tn);
      const std::vector<Net> bits = tiled_threshold_units(nl, layer, a, value, max_value, to_d);
      for (int j = 0; j < out_width; ++j) nl.set_output(out, j, bits[j]);
    } else {
      for (int o = 0; o < layer.num_outputs; ++o) {
        const int po = o % po_count;
        std::vector<Net> bits(static_cast<size_t>(layer.output_levels), kConst0);
        if (a.live_neuron[o])
          bits = threshold_bits(nl, layer, a, o, value[po], max_psum[po] * t.tn, 0);
        for (int b = 0; b < layer.output_levels; ++b) {
          const size_t bit = static_cast<size_t>(b) * layer.num_outputs + o;
          nl.set_output(out, static_cast<int>(bit), a.live_out[bit] ? bits[b] : kConst0);
        }
      }
    }
    const int write_port = nl.add_output("write", t.tm, /*registered=*/false);
    for (int tile = 0; tile < t.tm; ++tile) nl.set_output(write_port, tile, write[tile]);
    hw.output_width = output_width;
    hw.live_neurons = 0;
    for (uint8_t live : a.live_neuron) hw.live_neurons += live;

    text.levels = levels;
    text.num_inputs = layer.num_inputs;
    text.tm = t.tm;
    text.tn = t.tn;
    text.output_width = output_width;
    text.out_width = out_width;
    for (int tile = 0; tile < t.tm; ++tile) {
      std::vector<TiledLayerText::Bits> ranges;
      if (argmax)
        ranges.push_back({tile * po_count * aw, 0, po_count * aw});
      else
        for (int b = 0; b < layer.output_levels; ++b)
          ranges.push_back({b * layer.num_outputs + tile * po_count,
                            units ? b * po_count : b * layer.num_outputs + tile * po_count,
                            po_count});
      text.tile_bits.push_back(std::move(ranges));
    }
    text.accumulator_width = po_count * aw;
    text.array_stages = piped;
    text.n = t.n;
    text.word_bits = hw.weight_word_bits;
    if (text.word_bits > 0)
      for (int to_i = 0; to_i < t.tm; ++to_i)
        for (int ti = 0; ti < t.tn; ++ti) {
          std::vector<uint8_t> word(static_cast<size_t>(text.word_bits), 0);
          for (size_t q = 0; q < t.mask.size(); ++q) {
            if (kept_index[q] < 0) continue;
            const int po = static_cast<int>(q) / pi_count, pi = static_cast<int>(q) % pi_count;
            const size_t o = static_cast<size_t>(to_i) * po_count + po;
            const uint8_t bits = t.weight_bits[o * layer.num_inputs + ti * pi_count + pi];
            for (int b = 0; b < t.n; ++b) word[kept_index[q] * t.n + b] = (bits >> b) & 1;
          }
          text.words.push_back(std::move(word));
        }

    std::string comment = fmt::format(
        "Layer {0}: the LUT array of tiled layer {0}, one tile pair (to, ti) per clock: {1} tile "
        "outputs x {2}\ntile inputs, {3} level(s), K = {4} ({5} activation input(s) from x, "
        "{6} weight bit(s) from w),\nlevel weights",
        index, po_count, pi_count, levels, t.k, activations, t.n);
    for (int64_t lw : layer.level_weights) comment += fmt::format(" {}", lw);
    comment += fmt::format(
        ".\nx[l*{0}+pi] = level l of input ti*{0}+pi; w[{1}*q+b] = weight bit b of the q-th kept "
        "position\n(row-major) for this pair. acc[{2}*po+{3}:{2}*po] = (first ? 0 : acc_q) + the "
        "level-weighted popcount\nof tile output po ({4} counter stage(s), {5} pipeline "
        "register(s)): after the last input tile,\nthe accumulator of output to*{6}+po. out = "
        "the values of tile to's outputs on acc_q (bit b of\ntile output po at b*{6}+po: a "
        "threshold unit whose thresholds and sign for tile to come from a\nROM on to, or the "
        "score at po*{2}); write[to] a clock after `done` (the last input tile of\nrow to), "
        "when acc_q is final.",
        pi_count, t.n, aw, aw - 1, deepest, piped, po_count);
    *stub_text = netlist_stub(nl, text.array_module);
    return finish(std::move(nl), text.array_module, comment);
  }

  // An empty module with the ports of a netlist (for synthesizing its parent alone).
  static std::string netlist_stub(const Netlist& nl, const std::string& module) {
    std::string s = fmt::format("(* blackbox *)\nmodule {} (\n  input wire clk", module);
    for (const Port& port : nl.ports())
      s += fmt::format(",\n  {} {}{}", port.output ? "output reg" : "input wire",
                       port.width == 1 ? "" : fmt::format("[{}:0] ", port.width - 1), port.name);
    return s + "\n);\nendmodule\n";
  }

  static BitHeap constant_heap(int64_t value) {
    BitHeap heap;
    heap.add_weighted(kConst1, value);
    return heap;
  }

  // Neuron o's heaps with stand-in bits (only their shape matters).
  std::vector<ScaledHeap> shape_heaps(const Layer& layer, const LayerAnalysis& a, int o) const {
    constexpr Net kStandIn = 2;  // any non-constant net
    std::vector<ScaledHeap> heaps(static_cast<size_t>(layer.input_levels));
    int64_t constant = 0;
    for (int l = 0; l < layer.input_levels; ++l) heaps[l].multiplier = layer.level_weights[l];
    for (uint32_t c = layer.conn_offset[o]; c < layer.conn_offset[o + 1]; ++c)
      for (int l = 0; l < layer.input_levels; ++l) {
        const ReducedLut& r = a.luts[static_cast<size_t>(c) * layer.input_levels + l];
        if (r.kind != ReducedLut::Kind::kConst)
          heaps[l].heap.add(kStandIn, 0);
        else if (r.table & 1)
          constant += layer.level_weights[l];
      }
    if (layer.output == LayerOutput::kArgmax && constant > 0)
      heaps.push_back({constant_heap(constant), 1});
    return heaps;
  }

  // Output bits 0 .. needed - 1 of neuron o are read downstream (the rest are constant 0).
  int needed_bits(const Layer& layer, const LayerAnalysis& a, int o) const {
    int needed = 0;
    for (int b = 0; b < layer.output_levels; ++b)
      if (a.live_out[static_cast<size_t>(b) * layer.num_outputs + o]) needed = b + 1;
    return needed;
  }

  // The residual-sign bits of neuron o: bit b compares sign * acc with threshold
  // t[(2^b - 1) + prefix], prefix = the earlier bits with bit 0 most significant. Here every
  // threshold is a constant, compared as in accumulator_compare.
  std::vector<Net> threshold_bits(Netlist& nl, const Layer& layer, const LayerAnalysis& a, int o,
                                  const std::vector<Net>& sum, int64_t max_value,
                                  int64_t constant) {
    const int needed = needed_bits(layer, a, o);
    const int per_output = layer.thresholds_per_output();
    const int64_t* t = &layer.thresholds[static_cast<size_t>(o) * per_output];
    std::vector<Net> compare;
    for (int q = 0; q < residual_threshold_index(needed, 0); ++q) {
      // acc = sum + constant, compared unsigned (accumulator_compare).
      const AccumulatorCompare c = accumulator_compare(
          layer.output_sign[o], std::clamp(t[q], -kThresholdClamp, kThresholdClamp));
      const Net ge = greater_equal(nl, sum, max_value, c.at_least - constant);
      compare.push_back(c.invert ? nl.not_(ge) : ge);
    }
    return residual_sign_tree(nl, compare, needed, layer.output_levels);
  }

  // The residual-sign tree on the threshold compares of one output: compare[(2^b - 1) + prefix]
  // is the compare of threshold (2^b - 1) + prefix (with its sign); bit b selects among the 2^b
  // compares of level b by the earlier bits. Bits from `needed` on are 0.
  static std::vector<Net> residual_sign_tree(Netlist& nl, const std::vector<Net>& compare,
                                             int needed, int output_levels) {
    std::vector<Net> bits;
    for (int b = 0; b < needed; ++b) {
      std::vector<Net> choices(compare.begin() + residual_threshold_index(b, 0),
                               compare.begin() + residual_threshold_index(b + 1, 0));
      // Select by the prefix, least significant (latest) bit first.
      for (int j = b - 1; j >= 0; --j) {
        std::vector<Net> next;
        for (size_t i = 0; i + 1 < choices.size(); i += 2)
          next.push_back(nl.mux(bits[j], choices[i + 1], choices[i]));
        choices = std::move(next);
      }
      bits.push_back(choices[0]);
    }
    bits.resize(static_cast<size_t>(output_levels), kConst0);
    return bits;
  }

  // The threshold units of a tiled layer with more than one output tile: per tile output po one
  // comparator (a carry chain) per output bit on acc[po]. Bit b is the residual-sign bit of
  // output o = to * PO + po: it compares with threshold t[(2^b - 1) + prefix] of o (prefix = the
  // earlier bits, bit 0 most significant; as residual_sign_bit), from a ROM whose address is `to`
  // and the prefix (gates on the registered `to` bits and the earlier bits, which synthesis
  // folds into the comparator's carry-chain LUTs). As accumulator_compare puts it, the bit is
  // (acc >= at_least) ^ invert: with at_least clamped to 1 .. max_value + 1, acc >= at_least is
  // the carry out of acc + (2^W - at_least), and the ROM holds that addend and one more bit,
  // invert (flipped where at_least <= 0: never, flipped, is always). The bits of an output from
  // its needed_bits on are 0, a bit no output of the position reads is constant 0; a dead bit
  // below a live one is the reference's. Returns bit b of tile output po at [b * PO + po].
  std::vector<Net> tiled_threshold_units(Netlist& nl, const Layer& layer, const LayerAnalysis& a,
                                         const std::vector<std::vector<Net>>& acc,
                                         const std::vector<int64_t>& max_value,
                                         const std::vector<Net>& to_bits) {
    const Tiling& t = layer.tiling;
    const int po_count = t.tile_outputs(), per_output = layer.thresholds_per_output();
    const int tow = static_cast<int>(to_bits.size());
    int64_t widest = 0;
    for (int64_t m : max_value) widest = std::max(widest, m + 1);
    const int width = std::max(static_cast<int>(acc[0].size()), bit_width(widest));
    std::vector<Net> out(static_cast<size_t>(layer.output_levels) * po_count, kConst0);
    for (int po = 0; po < po_count; ++po) {
      int needed = 0;  // the most bits any output of this position needs
      for (int to = 0; to < t.tm; ++to)
        needed = std::max(needed, needed_bits(layer, a, to * po_count + po));
      if (needed == 0) continue;
      nl.comment(fmt::format("tile output {}: threshold unit", po));
      std::vector<Net> value = acc[po];
      value.resize(static_cast<size_t>(width), kConst0);
      std::vector<Net> bits;
      for (int b = 0; b < needed; ++b) {
        // Address v = to + (prefix << tow), prefix LSB first; to >= tm is never read (as to = 0).
        std::vector<Net> address = to_bits;
        for (int j = b - 1; j >= 0; --j) address.push_back(bits[j]);
        std::vector<int64_t> addend(size_t{1} << (tow + b));
        std::vector<uint8_t> invert(addend.size());
        for (size_t v = 0; v < addend.size(); ++v) {
          const int to = static_cast<int>(v & ((size_t{1} << tow) - 1));
          const int o = (to < t.tm ? to : 0) * po_count + po;
          const int q = residual_threshold_index(b, static_cast<int>(v >> tow));
          int64_t at_least = max_value[po] + 1;  // never: bit 0 from needed_bits on
          if (b < needed_bits(layer, a, o)) {
            const int64_t th = layer.thresholds[static_cast<size_t>(o) * per_output + q];
            const AccumulatorCompare c = accumulator_compare(
                layer.output_sign[o], std::clamp(th, -kThresholdClamp, kThresholdClamp));
            invert[v] = c.invert != (c.at_least <= 0);
            at_least = c.at_least <= 0 ? max_value[po] + 1 : std::min(c.at_least, at_least);
          }
          addend[v] = (int64_t{1} << width) - at_least;
        }
        std::vector<Net> addend_bits;
        for (int i = 0; i < width; ++i) {
          std::vector<uint8_t> column(addend.size());
          for (size_t v = 0; v < addend.size(); ++v) column[v] = (addend[v] >> i) & 1;
          addend_bits.push_back(rom_bit(nl, address, column));
        }
        const Net at_least = nl.sum({{value, 0}, {addend_bits, 0}}, width + 1)[width];
        bits.push_back(nl.xor2(at_least, rom_bit(nl, address, invert)));
      }
      for (int b = 0; b < layer.output_levels; ++b) {
        bool read = false;
        for (int to = 0; to < t.tm; ++to)
          read |= a.live_out[static_cast<size_t>(b) * layer.num_outputs + to * po_count + po] != 0;
        out[static_cast<size_t>(b) * po_count + po] = read && b < needed ? bits[b] : kConst0;
      }
    }
    return out;
  }

  // One bit of a ROM: values[v] at address v (the bits of `address`, bit 0 least significant,
  // 2^bits values) as a mux tree of gates, constants folded and equal halves shared, so that
  // synthesis folds it into the LUTs that read it (LUT nodes would be kept as LUT primitives).
  static Net rom_bit(Netlist& nl, const std::vector<Net>& address,
                     const std::vector<uint8_t>& values) {
    if (std::all_of(values.begin(), values.end(), [&](uint8_t v) { return v == values[0]; }))
      return nl.constant(values[0] != 0);
    const auto half = static_cast<std::ptrdiff_t>(values.size() / 2);
    const std::vector<Net> low(address.begin(), address.end() - 1);
    return nl.mux(address.back(), rom_bit(nl, low, {values.begin() + half, values.end()}),
                  rom_bit(nl, low, {values.begin(), values.begin() + half}));
  }

  std::string argmax_module(const HdlDesign& d) const {
    const int c = d.num_classes, sw = d.score_width, cw = d.class_width;
    std::ostringstream out;
    out << "// Argmax over the output accumulators: a tournament in which the right operand wins "
           "only\n// when strictly greater, so the lowest index wins ties (the reference takes "
           "the first\n// maximum). Registers the class and the scores together.\n";
    out << fmt::format(
        "module {} (\n  input wire clk,\n  input wire [{}:0] scores,\n  output reg [{}:0] "
        "class_out,\n  output reg [{}:0] scores_out\n);\n",
        name("argmax"), c * sw - 1, cw - 1, c * sw - 1);
    const std::string vr = sw == 1 ? "" : fmt::format("[{}:0] ", sw - 1);
    const std::string ir = cw == 1 ? "" : fmt::format("[{}:0] ", cw - 1);
    std::vector<std::pair<std::string, std::string>> round;  // (value, index) names
    for (int i = 0; i < c; ++i) {
      out << fmt::format("  wire {}v0_{} = scores[{}:{}];\n", vr, i, i * sw + sw - 1, i * sw);
      out << fmt::format("  wire {}i0_{} = {}'d{};\n", ir, i, cw, i);
      round.emplace_back(fmt::format("v0_{}", i), fmt::format("i0_{}", i));
    }
    for (int level = 1; round.size() > 1; ++level) {
      std::vector<std::pair<std::string, std::string>> next;
      for (size_t i = 0; i < round.size(); i += 2) {
        if (i + 1 == round.size()) {
          next.push_back(round[i]);
          continue;
        }
        const size_t j = i / 2;
        const auto& l = round[i];
        const auto& r = round[i + 1];
        out << fmt::format("  wire t{}_{} = {} > {};\n", level, j, r.first, l.first);
        if (round.size() > 2)  // the final round needs the winner's index only
          out << fmt::format("  wire {}v{}_{} = t{}_{} ? {} : {};\n", vr, level, j, level, j,
                             r.first, l.first);
        out << fmt::format("  wire {}i{}_{} = t{}_{} ? {} : {};\n", ir, level, j, level, j,
                           r.second, l.second);
        next.emplace_back(fmt::format("v{}_{}", level, j), fmt::format("i{}_{}", level, j));
      }
      round = std::move(next);
    }
    out << "  always @(posedge clk) begin\n";
    out << "    class_out <= " << round[0].second << ";\n";
    out << "    scores_out <= scores;\n  end\nendmodule\n";
    return out.str();
  }

  std::string file_header(const HdlDesign& d) const {
    std::string s = fmt::format("// Generated by lutnet from model \"{}\". Do not edit.\n",
                                sanitize(model_.name));
    if (d.in_ready && !d.streaming) {
      s += fmt::format("// LUT network with tiled layers: {}", model_.input.num_bits());
      for (const auto& layer : model_.layers) s += fmt::format("-{}", layer.num_outputs);
      s += " (per layer:";
      for (const auto& layer : model_.layers) {
        const Tiling& t = layer.tiling;
        s += t.enabled() ? fmt::format(" K={},N={} tiled {}x{};", t.k, t.n, t.tm, t.tn)
                         : fmt::format(" K={} unrolled;", layer.k);
      }
      s.pop_back();
      s += fmt::format(
          "),\n// one input every {} cycles (initiation interval, in_ready), latency {} "
          "cycles.\n",
          d.initiation_interval, d.latency_cycles);
    } else if (!d.streaming) {
      s += fmt::format("// Fully unrolled LUT network: {}", model_.input.num_bits());
      for (const auto& layer : model_.layers) s += fmt::format("-{}", layer.num_outputs);
      s += " (K per layer:";
      for (const auto& layer : model_.layers) s += fmt::format(" {}", layer.k);
      s += fmt::format("), latency {} cycles.\n", d.latency_cycles);
    } else {
      // Conv layers as channels@kernel/stride, pools as pool kernel/stride, dense as widths.
      s += d.in_ready ? fmt::format(
                            "// Streaming LUT network with tiled layers, one pixel every {} "
                            "cycles (in_ready):",
                            d.pixel_interval)
                      : "// Unrolled streaming LUT network, one pixel per clock:";
      const auto k_of = [](const Layer& layer) {
        const Tiling& t = layer.tiling;
        return t.enabled() ? fmt::format("K={},N={} tiled {}x{}", t.k, t.n, t.tm, t.tn)
                           : fmt::format("K={}", layer.k);
      };
      for (const auto& layer : model_.layers) {
        if (layer.kind == LayerKind::kLutConv2d)
          s += fmt::format(" conv{}@{}x{}/{}({})", layer.num_outputs, layer.kernel_h,
                           layer.kernel_w, layer.stride, k_of(layer));
        else if (layer.kind == LayerKind::kMaxPool)
          s += fmt::format(" pool{}x{}/{}", layer.kernel_h, layer.kernel_w, layer.stride);
        else
          s += fmt::format(" dense{}({})", layer.num_outputs, k_of(layer));
      }
      if (d.in_ready)
        s += fmt::format(
            ";\n// {} x {} = {} cycles per frame, latency {} cycles from the clock that took a "
            "frame's first pixel.\n",
            d.pixel_interval, d.frame_pixels, d.initiation_interval, d.latency_cycles);
      else
        s += fmt::format(
            ";\n// {} cycles per frame, latency {} cycles from a frame's first pixel.\n",
            d.frame_pixels, d.latency_cycles);
    }
    s += fmt::format("// Tables (learned LUTs, counters): {}.\n",
                     options_.xilinx_primitives ? "Xilinx LUTn primitives" : "behavioural");
    // One file holds every module of the network, under whatever name the user picks.
    s += "/* verilator lint_off DECLFILENAME */\n";
    return s;
  }

  std::string top_module(const HdlDesign& d) const {
    std::ostringstream out;
    const int lat = d.latency_cycles;
    out << "//\n// Top module " << options_.top_name << ": accepts one input vector per clock.\n";
    out << input_description(d);
    out << fmt::format(
        "// Latency: out_valid, out_class and out_scores follow in_valid and in_data by {} "
        "clock\n// cycles. out_class is the index of the first maximum of the {} scores; "
        "score c is\n// out_scores[{}*c+{}:{}*c]. rst clears the valid pipeline only.\n",
        lat, d.num_classes, d.score_width, d.score_width - 1, d.score_width);
    out << fmt::format(
        "module {} (\n  input wire clk,\n  input wire rst,\n  input wire in_valid,\n  input "
        "wire [{}:0] in_data,\n  output wire out_valid,\n  output wire [{}:0] out_class,\n  "
        "output wire [{}:0] out_scores\n);\n",
        options_.top_name, d.input_width - 1, d.class_width - 1, d.num_classes * d.score_width - 1);
    out << fmt::format("  reg [{}:0] valid_q;\n", lat - 1);
    out << "  always @(posedge clk) begin\n";
    out << fmt::format("    if (rst) valid_q <= {}'d0;\n", lat);
    out << fmt::format("    else valid_q <= {{valid_q[{}:0], in_valid}};\n", lat - 2);
    out << "  end\n";
    out << fmt::format("  assign out_valid = valid_q[{}];\n", lat - 1);
    out << fmt::format("  wire [{}:0] x0;\n", model_.input.num_bits() - 1);
    out << fmt::format("  {} u_input (.clk(clk), .data(in_data), .x(x0));\n", name("input"));
    std::string prev = "x0";
    for (const auto& hw : d.layers) {
      out << fmt::format("  wire [{}:0] {};\n", hw.output_width - 1, hw.output_signal);
      out << fmt::format("  {} u_{} (.clk(clk), .x({}), .y({}));\n", hw.module,
                         hw.output_signal.substr(0, hw.output_signal.size() - 2), prev,
                         hw.output_signal);
      prev = hw.output_signal;
    }
    out << fmt::format(
        "  {} u_argmax (.clk(clk), .scores({}), .class_out(out_class), "
        ".scores_out(out_scores));\n",
        name("argmax"), prev);
    out << "endmodule\n";
    return out.str();
  }

  const Model& model_;
  const HdlOptions& options_;
  std::vector<Netlist>* netlists_;
  std::vector<LayerAnalysis> analysis_;
};

bool valid_identifier(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char ch : s)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
  return true;
}

}  // namespace

HdlDesign generate_verilog(const Model& model, const HdlOptions& options) {
  return generate_verilog(model, options, nullptr);
}

HdlDesign generate_verilog(const Model& model, const HdlOptions& options,
                           std::vector<Netlist>* netlists) {
  validate(model);
  if (!valid_identifier(options.top_name))
    throw Error(fmt::format("top module name '{}' is not a plain Verilog identifier",
                            sanitize(options.top_name)));
  if (options.adder_pipeline_stages < 0 || options.adder_pipeline_stages > 64)
    throw Error(fmt::format("adder pipeline stages = {} is out of range 0..64",
                            options.adder_pipeline_stages));
  return Generator(model, options, netlists).run();
}

std::string generate_popcount_module(int n, PopcountStyle style, const std::string& name,
                                     bool xilinx_primitives) {
  if (n < 1) throw Error("popcount width must be at least 1");
  Netlist nl;
  const int in = nl.add_input("in_data", n);
  BitHeap heap;
  for (int i = 0; i < n; ++i) heap.add(nl.reg(nl.input(in, i)), 0);
  const std::vector<Net> count = sum_heap(nl, heap, style);
  const int out = nl.add_output("out_count", static_cast<int>(count.size()));
  for (size_t b = 0; b < count.size(); ++b) nl.set_output(out, static_cast<int>(b), count[b]);
  return emit_module(
      nl, name,
      {xilinx_primitives,
       fmt::format("Registered popcount of {} bits ({}), for LUT-per-bit measurements.", n,
                   popcount_style_name(style))});
}

}  // namespace lutnet::hdl
