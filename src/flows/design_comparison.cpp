#include "flows/design_comparison.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/reference_evaluator.hpp"
#include "core/seconds_since.hpp"
#include "flows/verify.hpp"
#include "hdl/verilog_writer.hpp"

namespace lutnet::flows {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void say(const DesignFlowOptions& options, const std::string& line) {
  if (options.progress) *options.progress << line << std::endl;
}

void add_verification(const Model& model, const Dataset& test, const DesignFlowOptions& options,
                      const hdl::HdlOptions& hdl_options, DesignResult& r) {
  const auto t = std::chrono::steady_clock::now();
  VerifyOptions verify;
  verify.hdl = hdl_options;
  // A frame of the assembled conv network takes ~seconds to simulate (docs/hardware.md): it runs
  // on the first 100 test images, and every stage alone on every image.
  verify.limit = options.verify_limit;
  verify.stages = true;
  verify.stage_limit = options.verify_limit;
  const auto v = verify_rtl(model, test, verify);
  r.verify_seconds = seconds_since(t);
  r.images = v.images;
  r.mismatches = std::max(v.mismatches, v.stage_mismatches);
  r.rtl_accuracy =
      v.images ? static_cast<double>(v.rtl_correct) / static_cast<double>(v.images) : 0;
  say(options,
      fmt::format("[{}] verify: {} images, {} mismatches{} ({:.1f} s){}", r.name, v.images,
                  v.mismatches,
                  v.stages.empty() ? ""
                                   : fmt::format("; every stage alone: {} images, {} mismatches",
                                                 v.stage_images, v.stage_mismatches),
                  r.verify_seconds, v.passed() ? "" : "  first: " + v.first_mismatch));
}

// Energy per frame of the synthesized netlist on the first test images (docs/power.md).
void add_power(const Model& model, const Dataset& test, const DesignFlowOptions& options,
               DesignResult& r) {
  PowerOptions power;
  power.synth.abc9 = options.abc9;
  power.clock_mhz = options.clock_mhz;
  power.limit =
      r.synth.streaming ? std::min<size_t>(options.power_limit, 100) : options.power_limit;
  power.synthesized = &r.synth;
  r.power = estimate_power(model, test, power);
  r.has_power = true;
  say(options, fmt::format("[{}] power: {:.0f} pJ/frame simulated ({:.0f} vectorless) on {} "
                           "frames, {} mismatches ({:.1f} s)",
                           r.name, r.pj_per_frame(), r.power.pj_per_frame(r.power.total.vectorless),
                           r.power.images, r.power.mismatches, r.power.seconds));
}

}  // namespace

double DesignResult::frames_per_second(double clock_mhz) const {
  // One image per clock, or for a streaming (conv) design one frame per cycles_per_frame.
  return clock_mhz * 1e6 / static_cast<double>(std::max(1, synth.cycles_per_frame));
}

double DesignResult::frames_per_second_per_lut(double clock_mhz) const {
  return frames_per_second(clock_mhz) / static_cast<double>(std::max<int64_t>(1, synth.luts));
}

double DesignResult::pj_per_frame() const {
  return has_power ? power.pj_per_frame(power.total.simulated) : 0.0;
}

json DesignResult::to_json(double clock_mhz) const {
  return {{"design", name},
          {"connections", connections},
          {"model_test_accuracy", model_accuracy},
          {"rtl_test_accuracy", rtl_accuracy},
          {"verified_images", images},
          {"mismatches", mismatches},
          {"luts", synth.luts},
          {"luts_with_encoder", synth.encoder ? json(synth.luts_with_encoder()) : json()},
          {"ffs", synth.ffs},
          {"carries", synth.carries},
          {"lut_depth", synth.lut_depth},
          {"cycles_per_image", synth.cycles_per_frame},
          {"images_per_second", frames_per_second(clock_mhz)},
          {"images_per_second_per_lut", frames_per_second_per_lut(clock_mhz)},
          {"hdl_seconds", hdl_seconds},
          {"verify_seconds", verify_seconds},
          {"synth_seconds", synth.seconds},
          {"synth", synth.to_json()},
          {"power", has_power ? power.to_json() : json()}};
}

DesignResult build_design(const std::string& name, const Model& model, const Dataset& test,
                          const fs::path& out_dir, const DesignFlowOptions& options) {
  DesignResult r;
  r.name = name;
  for (const auto& layer : model.layers)
    r.connections += static_cast<int64_t>(layer.num_connections());
  r.model_accuracy = reference_accuracy(model, test.pixels.data(), test.labels.data(), test.size());

  const auto t = std::chrono::steady_clock::now();
  const hdl::HdlOptions hdl_options;
  const auto design = hdl::generate_verilog(model, hdl_options);
  write_file_atomically(out_dir / (name + ".v"), design.verilog);
  r.hdl_seconds = seconds_since(t);
  say(options,
      fmt::format("[{}] hdl: {} ({:.1f} s, latency {} cycles)", name,
                  (out_dir / (name + ".v")).string(), r.hdl_seconds, design.latency_cycles));

  add_verification(model, test, options, hdl_options, r);

  SynthOptions synth;
  synth.abc9 = options.abc9;
  // Kept: lutnet power simulates these netlists when they have no SRLs (flows/power.hpp).
  synth.work_dir = out_dir / (name + "-synth");
  synth.keep = true;
  synth.encoder_row = true;
  synth.progress = options.progress;
  r.synth = synthesize(model, hdl_options, synth);
  say(options, fmt::format("[{}] synth: {} LUT, {} FF, {} CARRY, depth {}; input encoder {} LUT "
                           "({:.1f} s)",
                           name, r.synth.luts, r.synth.ffs, r.synth.carries, r.synth.lut_depth,
                           r.synth.encoder ? r.synth.encoder->luts : 0, r.synth.seconds));
  if (options.power) add_power(model, test, options, r);
  return r;
}

double DesignComparison::area_efficiency_ratio() const {
  return lutnet.frames_per_second_per_lut(clock_mhz) /
         baseline.frames_per_second_per_lut(clock_mhz);
}

double DesignComparison::energy_efficiency_ratio() const {
  const double a = lutnet.pj_per_frame(), b = baseline.pj_per_frame();
  return a > 0 && b > 0 ? b / a : 0.0;
}

std::string DesignComparison::table() const {
  std::string out =
      fmt::format("{:<9} {:>8} {:>8} {:>10} {:>8} {:>10} {:>8} {:>6} {:>12} {:>12} {:>10} {:>10}\n",
                  "design", "model%", "RTL%", "mismatch", "LUT", "LUT+enc", "FF", "depth",
                  "images/s", "img/s/LUT", "pJ/frame", "frames/J");
  for (const DesignResult* r : {&lutnet, &baseline}) {
    const double pj = r->pj_per_frame();
    out += fmt::format(
        "{:<9} {:>8.2f} {:>8.2f} {:>10} {:>8} {:>10} {:>8} {:>6} {:>12.3g} {:>12.1f} {:>10} "
        "{:>10}\n",
        r->name, 100 * r->model_accuracy, 100 * r->rtl_accuracy,
        fmt::format("{}/{}", r->mismatches, r->images), r->synth.luts,
        r->synth.encoder ? std::to_string(r->synth.luts_with_encoder()) : "-", r->synth.ffs,
        r->synth.lut_depth, r->frames_per_second(clock_mhz),
        r->frames_per_second_per_lut(clock_mhz), pj > 0 ? fmt::format("{:.0f}", pj) : "-",
        pj > 0 ? fmt::format("{:.3g}", 1e12 / pj) : "-");
  }
  if (!matching.empty()) out += matching + "\n";
  const int cycles = lutnet.synth.cycles_per_frame;
  out += fmt::format(
      "area efficiency LUTNet / baseline: {:.2f}x (at {:.2f}% vs {:.2f}% test accuracy; "
      "throughput assumes {} MHz, {})\n",
      area_efficiency_ratio(), 100 * lutnet.model_accuracy, 100 * baseline.model_accuracy,
      clock_mhz,
      cycles > 1 ? fmt::format("one frame per {} cycles", cycles) : "one image per clock");
  if (energy_efficiency_ratio() > 0)
    out += fmt::format(
        "energy efficiency LUTNet / baseline: {:.2f}x (frames/J, dynamic, simulated; "
        "docs/power.md)\n",
        energy_efficiency_ratio());
  return out;
}

json DesignComparison::to_json() const {
  return {{"designs", {lutnet.to_json(clock_mhz), baseline.to_json(clock_mhz)}},
          {"matching", matching},
          {"area_efficiency_ratio", area_efficiency_ratio()},
          {"energy_efficiency_ratio", energy_efficiency_ratio()},
          {"clock_mhz", clock_mhz}};
}

void DesignComparison::check() const {
  if (lutnet.power.mismatches || baseline.power.mismatches)
    throw Error("flow: the synthesized netlist disagrees with the reference (see the power lines)");
  if (lutnet.mismatches || baseline.mismatches)
    throw Error(
        "flow: the RTL disagrees with the reference evaluator (see the verify lines above)");
}

}  // namespace lutnet::flows
