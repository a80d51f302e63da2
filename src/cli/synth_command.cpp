// `lutnet synth MODEL`: Yosys synth_xilinx (UltraScale), out of context: LUT, FF and CARRY counts
// per layer and in total, and the LUT depth of the critical path. Optionally a Vivado script.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/command_registry.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/model_io.hpp"
#include "flows/synth.hpp"

namespace lutnet::cli {
namespace {

struct SynthArgs {
  std::string model, json, tcl, work_dir, family = "xcup", part, popcount = "tree", bench;
  bool encoder = false, abc9 = false, flatten = false, behavioural = false;
  int pipeline = 0, jobs = 2;
  std::vector<int> layers;
};

std::vector<int> parse_widths(const std::string& text) {
  std::vector<int> widths;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    try {
      size_t used = 0;
      const int n = std::stoi(item, &used);
      if (used != item.size() || n < 1 || n > 100000) throw std::invalid_argument(item);
      widths.push_back(n);
    } catch (const std::exception&) {
      throw Error(fmt::format("--popcount-bench: '{}' is not a width in 1..100000", item));
    }
  }
  return widths;
}

void run_bench(const SynthArgs& args, const flows::SynthOptions& options) {
  const std::vector<int> widths = parse_widths(args.bench);
  nlohmann::json rows = nlohmann::json::array();
  fmt::print("{:>7} {:<6} {:>7} {:>6} {:>6} {:>9}\n", "bits", "style", "LUTs", "CARRY", "depth",
             "LUT/bit");
  for (int n : widths) {
    for (auto style : {hdl::PopcountStyle::kCompressorTree, hdl::PopcountStyle::kCompressorGates,
                       hdl::PopcountStyle::kFlatSum}) {
      const flows::PopcountSynth p = flows::synthesize_popcount(n, style, options);
      const char* name = hdl::popcount_style_name(style);
      fmt::print("{:>7} {:<6} {:>7} {:>6} {:>6} {:>9.3f}\n", n, name, p.luts, p.carries,
                 p.lut_depth, p.luts_per_bit());
      rows.push_back({{"bits", n},
                      {"style", name},
                      {"luts", p.luts},
                      {"carries", p.carries},
                      {"lut_depth", p.lut_depth},
                      {"luts_per_bit", p.luts_per_bit()}});
    }
  }
  if (!args.json.empty())
    write_file_atomically(
        args.json,
        nlohmann::json({{"family", options.family}, {"abc9", options.abc9}, {"popcount", rows}})
                .dump(2) +
            "\n");
}

void add_synth(CLI::App& app) {
  auto args = std::make_shared<SynthArgs>();
  CLI::App* cmd = app.add_subcommand(
      "synth",
      "Synthesize the generated network (unrolled or tiled layers) with Yosys (Xilinx "
      "UltraScale, out of context): LUTs, FFs, CARRYs, SRL, LUT-RAM and block RAM per layer, "
      "critical-path LUT depth");
  cmd->add_option("MODEL", args->model, "Model file");
  cmd->add_flag("--input-encoder", args->encoder,
                "Include the 8-bit pixel encoder in the design (default: the design without it, "
                "and the encoder's input stage as a row of its own)");
  cmd->add_option("--json", args->json, "Write the report as JSON");
  cmd->add_option("--tcl", args->tcl,
                  "Write a Vivado script (and the Verilog it reads, same name with .v) here");
  cmd->add_option("--part", args->part, "Device for the Vivado script");
  cmd->add_option("--work-dir", args->work_dir,
                  "Keep the Yosys scripts, logs and netlists here (default: a temporary "
                  "directory, removed)");
  cmd->add_option("--family", args->family, "xcup (UltraScale+) or xcu (UltraScale)")
      ->check(CLI::IsMember({"xcup", "xcu"}));
  cmd->add_flag("--abc9", args->abc9, "Use synth_xilinx -abc9");
  cmd->add_flag("--flatten", args->flatten, "One flattened run (totals only, no per-layer rows)");
  cmd->add_flag("--behavioural", args->behavioural,
                "Synthesize the behavioural-table form instead of LUT primitives (Yosys then "
                "remaps the tables; larger and slower)");
  cmd->add_option("--adder-pipeline", args->pipeline, "Extra adder-tree register stages")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--popcount", args->popcount, "Adder trees: tree (default), gates or flat")
      ->check(CLI::IsMember({"tree", "gates", "flat"}));
  cmd->add_option("--layers", args->layers,
                  "Only these model layers (e.g. 5 or 2,5), for designs too large to synthesize "
                  "whole; the totals are theirs")
      ->delimiter(',');
  cmd->add_option("--jobs", args->jobs, "Yosys runs at a time")->check(CLI::Range(1, 256));
  cmd->add_option("--popcount-bench", args->bench,
                  "Instead of a model: synthesize registered popcounts of these widths "
                  "(e.g. 16,64,256) in each adder-tree style; LUTs per bit");
  cmd->callback([args] {
    flows::SynthOptions options;
    options.family = args->family;
    options.input_encoder = args->encoder;
    options.encoder_row = !args->encoder;
    options.progress = &std::cerr;
    options.abc9 = args->abc9;
    options.flatten = args->flatten;
    options.jobs = args->jobs;
    options.layers = args->layers;
    options.work_dir = args->work_dir;
    options.pin_luts = !args->behavioural;
    if (!args->bench.empty()) {
      if (!args->model.empty()) throw Error("give either MODEL or --popcount-bench, not both");
      run_bench(*args, options);
      return;
    }
    if (args->model.empty()) throw Error("synth needs a MODEL (or --popcount-bench WIDTHS)");
    const Model model = load_model(args->model);
    hdl::HdlOptions h;
    h.input_encoder = args->encoder;
    h.xilinx_primitives = !args->behavioural;
    h.adder_pipeline_stages = args->pipeline;
    h.popcount = hdl::parse_popcount_style(args->popcount);
    if (!args->tcl.empty()) {
      const hdl::HdlDesign d = hdl::generate_verilog(model, h);
      const std::filesystem::path tcl = args->tcl;
      std::filesystem::path verilog = tcl;
      verilog.replace_extension(".v");
      if (verilog == tcl) throw Error(fmt::format("--tcl {}: use a .tcl name", args->tcl));
      write_file_atomically(verilog, d.verilog);
      write_file_atomically(
          tcl, flows::vivado_tcl(d, verilog.filename().string(), args->family, args->part));
      fmt::print("wrote {} and {} (Vivado, not run here)\n", tcl.string(), verilog.string());
    }
    const flows::SynthReport r = flows::synthesize(model, h, options);
    fmt::print("{}", r.table());
    fmt::print("{} {}; {} LUTs, {} FFs, {} CARRY, LUT depth {}; {:.1f} s\n", r.yosys_version,
               r.to_json()["flow"].get<std::string>(), r.luts, r.ffs, r.carries, r.lut_depth,
               r.seconds);
    if (r.cycles_per_frame > 1)
      fmt::print(
          "{}: {} cycles per frame, {:.0f} frames/s at 200 MHz ({:.1f} frames/s per "
          "1000 LUTs); {}: {} SRL, {} LUT-RAM, {} RAMB18, {} RAMB36 cells\n",
          r.streaming ? (r.tiled ? "tiled streaming" : "streaming") : "tiled", r.cycles_per_frame,
          200e6 / r.cycles_per_frame,
          200e6 / r.cycles_per_frame / static_cast<double>(std::max<int64_t>(1, r.luts)) * 1000,
          r.streaming ? (r.tiled ? "line buffers and weight memories" : "line buffers")
                      : "weight memories",
          r.srls, r.lutrams, r.ramb18, r.ramb36);
    if (!args->json.empty()) write_file_atomically(args->json, r.to_json().dump(2) + "\n");
  });
}

const CommandRegistration kSynthRegistration(50, add_synth);

}  // namespace
}  // namespace lutnet::cli
