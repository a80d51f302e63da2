// `lutnet hdl MODEL -o OUT.v`: synthesizable Verilog-2005 of the network -- unrolled layers,
// tiled layers (one LUT array reused over the tile pairs), conv models as a pixel stream.
#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "cli/command_registry.hpp"
#include "core/atomic_file.hpp"
#include "core/model_io.hpp"
#include "hdl/verilog_writer.hpp"

namespace lutnet::cli {
namespace {

struct HdlArgs {
  std::string model, output, top = "lutnet_top", popcount = "tree";
  bool xilinx = false, encoder = false;
  int pipeline = 0;
};

void add_hdl(CLI::App& app) {
  auto args = std::make_shared<HdlArgs>();
  CLI::App* cmd = app.add_subcommand(
      "hdl",
      "Write synthesizable Verilog for the network: unrolled layers, tiled layers (one LUT array "
      "reused over the tile pairs, weights in block RAM), conv models as a pixel stream "
      "(docs/hardware.md)");
  cmd->add_option("MODEL", args->model, "Model file")->required();
  cmd->add_option("-o,--output", args->output, "Verilog file to write")->required();
  cmd->add_flag("--xilinx-lut6", args->xilinx,
                "Learned LUTs as Xilinx LUTn primitives instead of behavioural tables");
  cmd->add_flag("--input-encoder", args->encoder,
                "Take 8-bit pixels and apply the model's input encoding in hardware");
  cmd->add_option("--adder-pipeline", args->pipeline,
                  "Extra register stages inside each layer's adder trees")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--top", args->top, "Name of the top module");
  cmd->add_option("--popcount", args->popcount,
                  "Adder trees: 'tree' (compressor tree) or 'flat' (one '+' chain, for comparison)")
      ->check(CLI::IsMember({"tree", "gates", "flat"}));
  cmd->callback([args] {
    const auto start = std::chrono::steady_clock::now();
    const Model model = load_model(args->model);
    hdl::HdlOptions options;
    options.xilinx_primitives = args->xilinx;
    options.input_encoder = args->encoder;
    options.adder_pipeline_stages = args->pipeline;
    options.top_name = args->top;
    options.popcount = hdl::parse_popcount_style(args->popcount);
    const hdl::HdlDesign d = hdl::generate_verilog(model, options);
    write_file_atomically(args->output, d.verilog);
    int64_t learned = 0, free = 0, bits = 0;
    for (const auto& hw : d.layers) {
      learned += hw.learned_luts;
      free += hw.free_connections;
      bits += hw.popcount_bits;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int tiled = 0;
    int64_t weight_bits = 0;
    for (const auto& hw : d.layers) {
      tiled += hw.tiled;
      weight_bits += int64_t{hw.weight_words} * hw.weight_word_bits;
    }
    const std::string timing =
        d.streaming && d.in_ready
            ? fmt::format(
                  "a pixel of {} bits every {} cycles (in_ready), {} x {} = {} cycles per frame, "
                  "latency {} cycles from the clock that took a frame's first pixel; {} tiled "
                  "layer(s) ({} weight-memory bits)",
                  d.input_width, d.pixel_interval, d.pixel_interval, d.frame_pixels,
                  d.initiation_interval, d.latency_cycles, tiled, weight_bits)
        : d.streaming ? fmt::format(
                            "a pixel of {} bits per clock, {} cycles per frame, latency {} "
                            "cycles from a frame's first pixel",
                            d.input_width, d.frame_pixels, d.latency_cycles)
        : d.in_ready
            ? fmt::format(
                  "{} tiled layer(s) ({} weight-memory bits), one input every {} cycles "
                  "(initiation interval, in_ready), latency {} cycles, in_data {} bits",
                  tiled, weight_bits, d.initiation_interval, d.latency_cycles, d.input_width)
            : fmt::format("latency {} cycles, in_data {} bits", d.latency_cycles, d.input_width);
    fmt::print(
        "wrote {} ({:.1f} MB): top {}, {}; {} learned LUTs, {} free connections "
        "(wires/inverters), {} adder-tree input bits; {:.1f} s\n",
        args->output, static_cast<double>(d.verilog.size()) / 1e6, d.top_name, timing, learned,
        free, bits, seconds);
    if (!d.simulation_models.empty())
      fmt::print(
          "note: simulators need models of LUT1..LUT6 (vendor libraries, or 'lutnet verify "
          "--xilinx-lut6' which brings its own)\n");
  });
}

const CommandRegistration kHdlRegistration(30, add_hdl);

}  // namespace
}  // namespace lutnet::cli
