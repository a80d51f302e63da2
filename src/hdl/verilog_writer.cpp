#include "hdl/verilog_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/error.hpp"
#include "core/lut_function.hpp"
#include "hdl/verilog_emit.hpp"

namespace lutnet::hdl {
namespace {

constexpr int64_t kThresholdClamp = int64_t{1} << 61;  // far beyond any accumulator

// Reduced tables and liveness of one layer.
struct LayerAnalysis {
  std::vector<ReducedLut> luts;   // index c * input_levels + l
  std::vector<uint8_t> live_out;  // output bits read downstream (all scores of an argmax layer)
  std::vector<uint8_t> live_in;   // input bits read by a live neuron, plane-major
  std::vector<uint8_t> live_neuron;
};

bool neuron_live(const Layer& layer, const std::vector<uint8_t>& live_out, int o) {
  if (layer.output == LayerOutput::kArgmax) return true;
  for (int b = 0; b < layer.output_levels; ++b)
    if (live_out[static_cast<size_t>(b) * layer.num_outputs + o]) return true;
  return false;
}

std::vector<LayerAnalysis> analyze(const Model& model) {
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
      a.live_out = result[i + 1].live_in;
    }
    a.live_in.assign(static_cast<size_t>(layer.input_levels) * layer.num_inputs, 0);
    a.live_neuron.assign(static_cast<size_t>(layer.num_outputs), 0);
    for (int o = 0; o < layer.num_outputs; ++o) {
      if (!neuron_live(layer, a.live_out, o)) continue;
      a.live_neuron[o] = 1;
      for (uint32_t c = layer.conn_offset[o]; c < layer.conn_offset[o + 1]; ++c)
        for (int l = 0; l < layer.input_levels; ++l)
          for (uint32_t p : a.luts[static_cast<size_t>(c) * layer.input_levels + l].inputs)
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
    HdlDesign d;
    d.top_name = options_.top_name;
    d.input_encoder = options_.input_encoder;
    d.num_classes = model_.num_classes;
    d.class_width = std::max(1, bit_width(model_.num_classes - 1));
    const int num_bits = model_.input.num_bits();
    d.input_width = options_.input_encoder ? 8 * model_.input.num_pixels() : num_bits;

    const std::string data_port = fmt::format("input wire [{}:0] data", d.input_width - 1);
    d.modules.push_back({name("input"), "input", -1, input_module(d),
                         stub(name("input"), data_port, "x", num_bits)});
    int depth = 1;
    int layer_inputs = num_bits;
    for (size_t i = 0; i < model_.layers.size(); ++i) {
      LayerHardware hw;
      std::string text = layer_module(static_cast<int>(i), hw, d);
      depth += hw.latency_cycles;
      hw.register_depth = depth;
      d.modules.push_back({hw.module, fmt::format("layer {}", i), static_cast<int>(i),
                           std::move(text),
                           stub(hw.module, fmt::format("input wire [{}:0] x", layer_inputs - 1),
                                "y", hw.output_width)});
      layer_inputs = hw.output_width;
      d.layers.push_back(std::move(hw));
    }
    d.latency_cycles = depth + 1;
    const int scores = d.num_classes * d.score_width;
    d.modules.push_back({name("argmax"), "argmax", -1, argmax_module(d),
                         stub(name("argmax"), fmt::format("input wire [{}:0] scores", scores - 1),
                              fmt::format("[{}:0] class_out,\n  output reg [{}:0] scores_out",
                                          d.class_width - 1, scores - 1),
                              0)});
    d.modules.push_back({options_.top_name, "top", -1, top_module(d), ""});

    std::string verilog = file_header(d) + d.modules.back().verilog;
    for (size_t m = 0; m + 1 < d.modules.size(); ++m) verilog += "\n" + d.modules[m].verilog;
    d.verilog = std::move(verilog);
    if (options_.xilinx_primitives) d.simulation_models = xilinx_lut_simulation_models();
    return d;
  }

 private:
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

  // Registers in_data, through the pixel encoder when enabled. Bits no layer reads stay 0.
  std::string input_module(HdlDesign& d) {
    Netlist nl;
    const int data = nl.add_input("data", d.input_width);
    const int num_bits = model_.input.num_bits();
    const int x = nl.add_output("x", num_bits);
    const auto& live = analysis_.front().live_in;
    d.input_live = live;
    const auto& thresholds = model_.input.thresholds;
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

  std::string layer_module(int index, LayerHardware& hw, HdlDesign& d) {
    const auto& layer = model_.layers[index];
    const auto& a = analysis_[index];
    const bool argmax = layer.output == LayerOutput::kArgmax;
    const int levels = layer.input_levels;
    hw.module = name(fmt::format("layer{}", index));
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
          Net bit = kConst0;
          switch (r.kind) {
            case ReducedLut::Kind::kConst:
              ++hw.constant_tables;
              if (r.table & 1) constant += layer.level_weights[l];
              continue;
            case ReducedLut::Kind::kWire:
              ++hw.free_connections;
              bit = in(r.inputs[0]);
              break;
            case ReducedLut::Kind::kInverter:
              ++hw.free_connections;
              bit = nl.not_(in(r.inputs[0]));
              break;
            case ReducedLut::Kind::kLut: {
              ++hw.learned_luts;
              std::vector<Net> ins;
              for (uint32_t p : r.input_list()) ins.push_back(in(p));
              bit = nl.lut(ins, r.table);
              break;
            }
          }
          heaps[l].heap.add(bit, 0);
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

  // The residual-sign bits of neuron o: bit b compares sign * acc with threshold
  // t[(2^b - 1) + prefix], prefix = the earlier bits with bit 0 most significant.
  std::vector<Net> threshold_bits(Netlist& nl, const Layer& layer, const LayerAnalysis& a, int o,
                                  const std::vector<Net>& sum, int64_t max_value,
                                  int64_t constant) {
    int needed = 0;
    for (int b = 0; b < layer.output_levels; ++b)
      if (a.live_out[static_cast<size_t>(b) * layer.num_outputs + o]) needed = b + 1;
    const int per_output = layer.thresholds_per_output();
    const int64_t* t = &layer.thresholds[static_cast<size_t>(o) * per_output];
    std::vector<Net> compare;
    for (int q = 0; q < (1 << needed) - 1; ++q) {
      // acc = sum + constant, compared unsigned (accumulator_compare).
      const AccumulatorCompare c = accumulator_compare(
          layer.output_sign[o], std::clamp(t[q], -kThresholdClamp, kThresholdClamp));
      const Net ge = greater_equal(nl, sum, max_value, c.at_least - constant);
      compare.push_back(c.invert ? nl.not_(ge) : ge);
    }
    std::vector<Net> bits;
    for (int b = 0; b < needed; ++b) {
      std::vector<Net> choices(compare.begin() + ((1 << b) - 1),
                               compare.begin() + ((1 << (b + 1)) - 1));
      // Select by the prefix, least significant (latest) bit first.
      for (int j = b - 1; j >= 0; --j) {
        std::vector<Net> next;
        for (size_t i = 0; i + 1 < choices.size(); i += 2)
          next.push_back(nl.mux(bits[j], choices[i + 1], choices[i]));
        choices = std::move(next);
      }
      bits.push_back(choices[0]);
    }
    bits.resize(static_cast<size_t>(layer.output_levels), kConst0);
    return bits;
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
    s += fmt::format("// Fully unrolled LUT network: {}", model_.input.num_bits());
    for (const auto& layer : model_.layers) s += fmt::format("-{}", layer.num_outputs);
    s += " (K per layer:";
    for (const auto& layer : model_.layers) s += fmt::format(" {}", layer.k);
    s += fmt::format("), latency {} cycles.\n// Tables (learned LUTs, counters): {}.\n",
                     d.latency_cycles,
                     options_.xilinx_primitives ? "Xilinx LUTn primitives" : "behavioural");
    // One file holds every module of the network, under whatever name the user picks.
    s += "/* verilator lint_off DECLFILENAME */\n";
    return s;
  }

  std::string top_module(const HdlDesign& d) const {
    std::ostringstream out;
    const int lat = d.latency_cycles;
    out << "//\n// Top module " << options_.top_name << ": accepts one input vector per clock.\n";
    if (d.input_encoder)
      out << fmt::format(
          "// in_data[8p+7:8p] = pixel p (8 bits, {} pixels); encoded in "
          "hardware.\n",
          model_.input.num_pixels());
    else
      out << fmt::format(
          "// in_data = the {} encoded input bits (bit p*T+j = pixel p >= "
          "threshold j).\n",
          d.input_width);
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
  for (size_t i = 0; i < model.layers.size(); ++i)
    if (model.layers[i].kind != LayerKind::kLutDense)
      throw Error(fmt::format(
          "layer {} is a {} layer: the Verilog writer builds lut_dense layers only so far "
          "(streaming conv and pool RTL is not written yet)",
          i, layer_kind_name(model.layers[i].kind)));
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
