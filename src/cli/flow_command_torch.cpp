// lutnet flow: train -> export -> hdl -> verify -> synth, for LUTNet and its XNOR baseline, and one
// comparison table (also written as OUT/flow.json).
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/command_registry.hpp"
#include "cli/train_flags.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/model_io.hpp"
#include "core/read_file.hpp"
#include "core/reference_evaluator.hpp"
#include "data/dataset.hpp"
#include "flows/power.hpp"
#include "flows/synth.hpp"
#include "flows/verify.hpp"
#include "hdl/verilog_writer.hpp"
#include "train/config.hpp"
#include "train/trainer.hpp"

namespace lutnet::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct FlowFlags {
  std::string from;  // existing run directory: skip training
  double clock_mhz = 200;
  size_t verify_limit = 0;
  bool encoder_synth = true;
  bool abc9 = false;
  bool power = true;
  size_t power_limit = 1000;  // frames through the gate-level simulation (streaming: 100)
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct DesignResult {
  std::string name;
  double model_accuracy = 0, rtl_accuracy = 0;
  size_t images = 0, mismatches = 0;
  int64_t connections = 0;
  flows::SynthReport synth, synth_encoder;
  bool has_encoder = false;
  flows::PowerReport power;
  bool has_power = false;
  double hdl_seconds = 0, verify_seconds = 0;
};

void add_power(const Model& model, const Dataset& test, const FlowFlags& flags, DesignResult& r);

DesignResult build_design(const std::string& name, const Model& model, const Dataset& test,
                          const fs::path& out_dir, const FlowFlags& flags) {
  DesignResult r;
  r.name = name;
  for (const auto& layer : model.layers)
    r.connections += static_cast<int64_t>(layer.num_connections());
  r.model_accuracy = reference_accuracy(model, test.pixels.data(), test.labels.data(), test.size());

  auto t = std::chrono::steady_clock::now();
  hdl::HdlOptions hdl_options;
  const auto design = hdl::generate_verilog(model, hdl_options);
  write_file_atomically(out_dir / (name + ".v"), design.verilog);
  r.hdl_seconds = seconds_since(t);
  std::cout << fmt::format("[{}] hdl: {} ({:.1f} s, latency {} cycles)", name,
                           (out_dir / (name + ".v")).string(), r.hdl_seconds, design.latency_cycles)
            << std::endl;

  t = std::chrono::steady_clock::now();
  flows::VerifyOptions verify;
  // A frame of the assembled conv network takes ~seconds to simulate (docs/hardware.md): it runs
  // on the first 100 test images, and every stage alone on every image.
  verify.limit = flags.verify_limit;
  verify.stages = true;
  verify.stage_limit = flags.verify_limit;
  const auto v = flows::verify_rtl(model, test, verify);
  r.verify_seconds = seconds_since(t);
  r.images = v.images;
  r.mismatches = std::max(v.mismatches, v.stage_mismatches);
  r.rtl_accuracy =
      v.images ? static_cast<double>(v.rtl_correct) / static_cast<double>(v.images) : 0;
  std::cout << fmt::format("[{}] verify: {} images, {} mismatches{} ({:.1f} s){}", name, v.images,
                           v.mismatches,
                           v.stages.empty() ? ""
                                            : fmt::format("; every stage alone: {} images, {} "
                                                          "mismatches",
                                                          v.stage_images, v.stage_mismatches),
                           r.verify_seconds, v.passed() ? "" : "  first: " + v.first_mismatch)
            << std::endl;

  flows::SynthOptions synth;
  synth.abc9 = flags.abc9;
  // Kept: lutnet power simulates these netlists when they have no SRLs (flows/power.hpp).
  synth.work_dir = out_dir / (name + "-synth");
  synth.keep = true;
  r.synth = flows::synthesize(model, hdl_options, synth);
  std::cout << fmt::format("[{}] synth: {} LUT, {} FF, {} CARRY, depth {} ({:.1f} s)", name,
                           r.synth.luts, r.synth.ffs, r.synth.carries, r.synth.lut_depth,
                           r.synth.seconds)
            << std::endl;
  if (flags.encoder_synth) {
    synth.input_encoder = true;
    synth.work_dir.clear();
    synth.keep = false;
    r.synth_encoder = flows::synthesize(model, hdl_options, synth);
    r.has_encoder = true;
    std::cout << fmt::format("[{}] synth with input encoder: {} LUT ({:.1f} s)", name,
                             r.synth_encoder.luts, r.synth_encoder.seconds)
              << std::endl;
  }
  if (flags.power) add_power(model, test, flags, r);
  return r;
}

// Energy per frame of the synthesized netlist on the first test images (docs/power.md).
void add_power(const Model& model, const Dataset& test, const FlowFlags& flags, DesignResult& r) {
  flows::PowerOptions power;
  power.synth.abc9 = flags.abc9;
  power.clock_mhz = flags.clock_mhz;
  power.limit = r.synth.streaming ? std::min<size_t>(flags.power_limit, 100) : flags.power_limit;
  power.synthesized = &r.synth;
  r.power = flows::estimate_power(model, test, power);
  r.has_power = true;
  std::cout << fmt::format(
                   "[{}] power: {:.0f} pJ/frame simulated ({:.0f} vectorless) on {} frames, {} "
                   "mismatches ({:.1f} s)",
                   r.name, r.power.pj_per_frame(r.power.total.simulated),
                   r.power.pj_per_frame(r.power.total.vectorless), r.power.images,
                   r.power.mismatches, r.power.seconds)
            << std::endl;
}

void add_flow(CLI::App& app) {
  auto train_flags = std::make_shared<TrainFlags>();
  auto flags = std::make_shared<FlowFlags>();
  auto* cmd = app.add_subcommand(
      "flow",
      "Train (or reuse with --from) a LUTNet model and its XNOR baseline, then for both: write "
      "Verilog, verify it with Verilator on the test set, synthesize with Yosys, and print one "
      "comparison table (also OUT/flow.json).");
  add_training_options(cmd, train_flags);
  cmd->add_option("--from", flags->from,
                  "Use model.json and baseline.json of this finished run instead of training");
  cmd->add_option(
         "--clock-mhz", flags->clock_mhz,
         "Design clock for the throughput column (one image per clock, or per frame of pixels for "
         "conv models); not a timing "
         "result")
      ->capture_default_str();
  cmd->add_option("--verify-limit", flags->verify_limit,
                  "Verify only the first N test images (default: all; conv models: every stage "
                  "alone on all of them, the assembled design on the first 100)");
  cmd->add_flag("!--no-encoder-synth", flags->encoder_synth,
                "Skip the second synthesis that includes the input encoder");
  cmd->add_flag("--abc9", flags->abc9, "Synthesize with synth_xilinx -abc9");
  cmd->add_flag("!--no-power", flags->power,
                "Skip lutnet power (energy per frame from the gate-level netlist; one more Yosys "
                "run per design)");
  cmd->add_option("--power-limit", flags->power_limit,
                  "Frames through the gate-level simulation (default 1000; conv models: at most "
                  "100)");
  cmd->callback([train_flags, flags] {
    const auto start = std::chrono::steady_clock::now();
    auto config = build_config(*train_flags);
    tune_allocator_for_training();
    fs::path run_dir = flags->from.empty() ? fs::path(train_flags->out_dir) : fs::path(flags->from);
    if (!flags->from.empty()) {
      // The finished run's own config says which test set belongs to its models.
      const auto config_path = run_dir / "config.json";
      const auto text = read_text_file(config_path, "run config (is --from a finished run?)");
      const auto data_dir = config.data_dir;
      config = train::config_from_json(text, config_path.string(), train::TrainConfig{});
      config.data_dir = data_dir;
    }
    if (flags->from.empty()) {
      train::RunOptions options;
      options.out_dir = run_dir;
      options.resume = train_flags->resume;
      options.progress = &std::cout;
      train::run_training(config, options);
    }
    const Model lutnet = load_model(run_dir / "model.json");
    const Model baseline = load_model(run_dir / "baseline.json");
    const Dataset test = train::load_training_data(config).test;
    const auto a = build_design("lutnet", lutnet, test, run_dir, *flags);
    const auto b = build_design("baseline", baseline, test, run_dir, *flags);

    // One image per clock, or for a streaming (conv) design one frame per cycles_per_frame.
    auto images_per_second = [&](const DesignResult& r) {
      return flags->clock_mhz * 1e6 / static_cast<double>(std::max(1, r.synth.cycles_per_frame));
    };
    auto efficiency = [&](const DesignResult& r) {
      return images_per_second(r) / static_cast<double>(std::max<int64_t>(1, r.synth.luts));
    };
    json rows = json::array();
    auto pj = [](const DesignResult& r) {
      return r.has_power ? r.power.pj_per_frame(r.power.total.simulated) : 0.0;
    };
    auto per_joule = [&](const DesignResult& r) { return pj(r) > 0 ? 1e12 / pj(r) : 0.0; };
    std::cout << fmt::format(
        "\n{:<9} {:>8} {:>8} {:>10} {:>8} {:>10} {:>8} {:>6} {:>12} {:>12} {:>10} {:>10}\n",
        "design", "model%", "RTL%", "mismatch", "LUT", "LUT+enc", "FF", "depth", "images/s",
        "img/s/LUT", "pJ/frame", "frames/J");
    for (const auto* r : {&a, &b}) {
      std::cout << fmt::format(
          "{:<9} {:>8.2f} {:>8.2f} {:>10} {:>8} {:>10} {:>8} {:>6} {:>12.3g} "
          "{:>12.1f} {:>10} {:>10}\n",
          r->name, 100 * r->model_accuracy, 100 * r->rtl_accuracy,
          fmt::format("{}/{}", r->mismatches, r->images), r->synth.luts,
          r->has_encoder ? std::to_string(r->synth_encoder.luts) : "-", r->synth.ffs,
          r->synth.lut_depth, images_per_second(*r), efficiency(*r),
          r->has_power ? fmt::format("{:.0f}", pj(*r)) : "-",
          r->has_power ? fmt::format("{:.3g}", per_joule(*r)) : "-");
      rows.push_back({{"design", r->name},
                      {"connections", r->connections},
                      {"model_test_accuracy", r->model_accuracy},
                      {"rtl_test_accuracy", r->rtl_accuracy},
                      {"verified_images", r->images},
                      {"mismatches", r->mismatches},
                      {"luts", r->synth.luts},
                      {"luts_with_encoder", r->has_encoder ? json(r->synth_encoder.luts) : json()},
                      {"ffs", r->synth.ffs},
                      {"carries", r->synth.carries},
                      {"lut_depth", r->synth.lut_depth},
                      {"cycles_per_image", r->synth.cycles_per_frame},
                      {"images_per_second", images_per_second(*r)},
                      {"images_per_second_per_lut", efficiency(*r)},
                      {"hdl_seconds", r->hdl_seconds},
                      {"verify_seconds", r->verify_seconds},
                      {"synth_seconds", r->synth.seconds},
                      {"synth", r->synth.to_json()},
                      {"power", r->has_power ? r->power.to_json() : json()}});
    }
    const double ratio = efficiency(a) / efficiency(b);
    std::cout << fmt::format(
        "area efficiency LUTNet / baseline: {:.2f}x (at {:.2f}% vs {:.2f}% test accuracy; "
        "throughput assumes {} MHz, {})\n",
        ratio, 100 * a.model_accuracy, 100 * b.model_accuracy, flags->clock_mhz,
        a.synth.cycles_per_frame > 1
            ? fmt::format("one frame per {} cycles", a.synth.cycles_per_frame)
            : "one image per clock");
    const double energy_ratio = pj(b) > 0 && pj(a) > 0 ? pj(b) / pj(a) : 0.0;
    if (energy_ratio > 0)
      std::cout << fmt::format(
          "energy efficiency LUTNet / baseline: {:.2f}x (frames/J, dynamic, simulated; "
          "docs/power.md)\n",
          energy_ratio);
    const json report = {{"designs", rows},
                         {"area_efficiency_ratio", ratio},
                         {"energy_efficiency_ratio", energy_ratio},
                         {"clock_mhz", flags->clock_mhz},
                         {"seconds", seconds_since(start)}};
    write_file_atomically(run_dir / "flow.json", report.dump(2));
    std::cout << "wrote " << (run_dir / "flow.json").string() << "\n";
    if (a.power.mismatches || b.power.mismatches)
      throw Error(
          "flow: the synthesized netlist disagrees with the reference (see the power lines)");
    if (a.mismatches || b.mismatches)
      throw Error(
          "flow: the RTL disagrees with the reference evaluator (see the verify lines "
          "above)");
  });
}

const CommandRegistration registration(80, add_flow);

}  // namespace
}  // namespace lutnet::cli
