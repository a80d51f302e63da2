#include "flows/power.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <future>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/reference_evaluator.hpp"
#include "flows/gate_harness.hpp"
#include "flows/subprocess.hpp"
#include "flows/verify.hpp"
#include "flows/verify_records.hpp"
#include "flows/verilator_build.hpp"
#include "power/activity_summary.hpp"
#include "power/gate_netlist.hpp"
#include "power/gate_simulator.hpp"
#include "power/saif_writer.hpp"

namespace lutnet::flows {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Netlist instance -> the design module (synth row) it belongs to.
std::vector<int> groups_of(const power::GateNetlist& n, const hdl::HdlDesign& d) {
  int top = 0;
  for (size_t m = 0; m < d.modules.size(); ++m)
    if (d.modules[m].name == d.top_name) top = static_cast<int>(m);
  std::vector<int> out(n.instances.size(), top);
  for (size_t i = 0; i < n.instances.size(); ++i)
    for (size_t m = 0; m < d.modules.size(); ++m)
      if (d.modules[m].name == n.instances[i].module) out[i] = static_cast<int>(m);
  return out;
}

// The scores of result `r` as integers, score_width bits each.
int64_t score_of(const GateResult& r, const hdl::HdlDesign& d, size_t c) {
  int64_t v = 0;
  for (int b = 0; b < d.score_width; ++b)
    v |= static_cast<int64_t>(bit_of(r.scores.data(), c * static_cast<size_t>(d.score_width) + b))
         << b;
  return v;
}

// Compares every result with the reference into the report.
void compare_results(const Model& model, const hdl::HdlDesign& d, const Dataset& data,
                     const GateRun& run, PowerReport& report) {
  const size_t image_bytes = static_cast<size_t>(model.input.num_pixels());
  for (size_t n = 0; n < report.images; ++n) {
    std::string what;
    if (n >= run.results.size()) {
      what = run.protocol_error;
    } else {
      const Prediction p = evaluate_reference(model, &data.pixels[n * image_bytes]);
      const GateResult& r = run.results[n];
      for (size_t c = 0; c < p.scores.size() && what.empty(); ++c)
        if (const int64_t got = score_of(r, d, c); got != p.scores[c])
          what = fmt::format("score of class {}: netlist {}, reference {}", c, got, p.scores[c]);
      if (what.empty() && r.label != p.label)
        what = fmt::format("class: netlist {}, reference {}", r.label, p.label);
    }
    if (what.empty()) continue;
    ++report.mismatches;
    if (report.first_mismatch_image >= 0) continue;
    report.first_mismatch_image = static_cast<long>(n);
    report.first_mismatch = std::move(what);
  }
  if (!run.protocol_error.empty() && report.first_mismatch.empty()) {
    report.mismatches = std::max<size_t>(report.mismatches, 1);
    report.first_mismatch = run.protocol_error;
  }
}

PowerPart priced(std::string label, const power::ResourceActivity& a, const PowerOptions& o) {
  PowerPart p;
  p.label = std::move(label);
  p.activity = a;
  p.simulated = power::price(a, o.coefficients);
  p.vectorless = power::price(power::vectorless_activity(a, o.toggle_rate, o.enable_probability),
                              o.coefficients);
  return p;
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  char text[64];
  std::strftime(text, sizeof text, "%a %b %d %H:%M:%S %Y", std::localtime(&now));
  return text;
}

// The SAIF file and, beside it, a Vivado script reporting power vectorless and with it.
void write_saif_and_tcl(const power::GateNetlist& n, const power::GateActivity& a,
                        const hdl::HdlDesign& d, const PowerOptions& o, PowerReport& report) {
  if (o.saif.empty()) return;
  power::SaifOptions so;
  so.clock_period_ps = 1e6 / o.clock_mhz;
  so.date = today();
  so.program_version = LUTNET_VERSION;
  write_file_atomically(o.saif, power::saif_text(n, a, so));
  report.saif = o.saif;
  if (o.tcl.empty()) return;
  const fs::path verilog = fs::path(o.tcl).replace_extension(".v");
  write_file_atomically(verilog, d.verilog);
  std::string tcl = vivado_tcl(d, verilog.filename().string(), o.synth.family, o.part);
  const std::string period = fmt::format("{:.3f}", 1e3 / o.clock_mhz);
  if (const size_t at = tcl.find("-period 5.000"); at != std::string::npos)
    tcl.replace(at, 13, "-period " + period);
  tcl += fmt::format(
      "# Power: vectorless (Vivado's defaults), then with the activity lutnet power simulated.\n"
      "report_power -file [file join $here {0}_power_vectorless.rpt]\n"
      "read_saif -strip_path {0} [file join $here {1}]\n"
      "report_power -file [file join $here {0}_power_saif.rpt]\n",
      d.top_name, fs::relative(o.saif, fs::path(o.tcl).parent_path()).string());
  write_file_atomically(o.tcl, tcl);
  report.tcl = o.tcl;
}

// The netlists to simulate: a kept synthesis without SRLs as it is, or a new one with -nosrl
// (synth.hpp) in `dir`.
std::vector<fs::path> synthesized_netlists(const Model& model, const PowerOptions& options, const fs::path& dir,
                              PowerReport& report) {
  const SynthReport* prior = options.synthesized;
  if (prior && prior->srls == 0 && !prior->flatten && !prior->work_dir.empty()) {
    report.synth = *prior;
    return prior->netlists;
  }
  SynthOptions synth = options.synth;
  synth.work_dir = dir / "synth";
  synth.keep = true;
  synth.layers.clear();
  synth.flatten = false;
  synth.srl = false;  // synth.hpp: Yosys 0.23's SRLs ignore their clock enable
  report.synth = synthesize(model, options.hdl, synth);
  return report.synth.netlists;
}

// Every module's activity priced, and the total.
void price_parts(const power::GateNetlist& netlist, const power::GateActivity& activity,
                 const hdl::HdlDesign& design, const PowerOptions& options, PowerReport& report) {
  const auto parts = power::summarize_activity(netlist, activity, groups_of(netlist, design),
                                               design.modules.size());
  power::ResourceActivity total;
  for (size_t m = 0; m < parts.size(); ++m) {
    report.parts.push_back(priced(design.modules[m].label, parts[m], options));
    total += parts[m];
  }
  report.total = priced("total", total, options);
}

}  // namespace

PowerReport estimate_power(const Model& model, const Dataset& data, const PowerOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  validate(model);
  if (data.labels.empty()) throw Error(fmt::format("dataset '{}' has no images", data.name));
  if (!(options.clock_mhz > 0)) throw Error("power: --clock must be a positive frequency in MHz");
  PowerReport report;
  report.images = options.limit ? std::min(options.limit, data.labels.size()) : data.labels.size();
  report.clock_mhz = options.clock_mhz;
  report.toggle_rate = options.toggle_rate;
  report.family = options.coefficients.family;
  report.coefficients_origin = options.coefficients.origin;

  WorkDir dir(options.synth.work_dir, options.synth.keep, "lutnet-power");
  const std::vector<fs::path> netlists = synthesized_netlists(model, options, dir.path(), report);
  if (netlists.empty()) throw InternalError("power: the synthesis kept no netlists");
  const hdl::HdlDesign design =
      hdl::generate_verilog(model, synthesized_hdl_options(options.hdl, options.synth));
  report.cycles_per_frame = design.initiation_interval;

  const power::GateNetlist netlist =
      power::read_blif_files(netlists, design.top_name);
  report.cells = netlist.cells.size();
  report.nets = netlist.net_names.size();
  power::GateSimulator sim(netlist);
  std::vector<uint8_t> words = harness_inputs(model, design, data, report.images);
  words.erase(words.begin(), words.begin() + 16);  // the file header
  const auto sim_start = std::chrono::steady_clock::now();
  const GateRun run = run_frames(sim, design, words, report.images, [&](size_t done) {
    if (options.progress) options.progress(done, report.images, seconds_since(sim_start));
  });
  report.simulate_seconds = seconds_since(sim_start);
  report.cycles = run.cycles;
  const Model& golden = options.reference_model ? *options.reference_model : model;
  if (golden.layers.size() != model.layers.size() || golden.num_classes != model.num_classes)
    throw Error("the reference model does not have the simulated model's shape");
  compare_results(golden, design, data, run, report);

  price_parts(netlist, sim.activity(), design, options, report);
  write_saif_and_tcl(netlist, sim.activity(), design, options, report);
  report.seconds = seconds_since(start);
  return report;
}

json PowerReport::to_json() const {
  auto estimate = [&](const power::EnergyEstimate& e) {
    json terms = json::object();
    for (size_t i = 0; i < power::kTermCount; ++i)
      terms[power::term_key(static_cast<power::Term>(i))] = per_frame(e.pj[i]);
    return json{{"pj_per_frame", pj_per_frame(e)},
                {"pj_per_frame_low", per_frame(e.low_pj)},
                {"pj_per_frame_high", per_frame(e.high_pj)},
                {"watts", watts(e)},
                {"frames_per_joule", 1e12 / pj_per_frame(e)},
                {"terms_pj_per_frame", terms}};
  };
  auto part = [&](const PowerPart& p) {
    const auto& a = p.activity;
    return json{{"label", p.label},
                {"nets", a.nets},
                {"net_toggles_per_frame", per_frame(a.net_toggles)},
                {"net_toggle_rate", a.net_toggle_rate()},
                {"lut_output_toggles_per_frame", per_frame(a.lut_output_toggles)},
                {"ff_output_toggles_per_frame", per_frame(a.ff_output_toggles)},
                {"bram_reads_per_frame", per_frame(a.bram18_reads + a.bram36_reads)},
                {"simulated", estimate(p.simulated)},
                {"vectorless", estimate(p.vectorless)}};
  };
  json rows = json::array();
  for (const auto& p : parts) rows.push_back(part(p));
  return {{"images", images},
          {"mismatches", mismatches},
          {"first_mismatch_image", first_mismatch_image},
          {"first_mismatch", first_mismatch},
          {"cycles", cycles},
          {"cycles_per_frame", cycles_per_frame},
          {"clock_mhz", clock_mhz},
          {"vectorless_toggle_rate", toggle_rate},
          {"frames_per_second", frames_per_second()},
          {"family", family},
          {"coefficients", coefficients_origin},
          {"cells", cells},
          {"nets", nets},
          {"luts", synth.luts},
          {"total", part(total)},
          {"modules", rows},
          {"simulate_seconds", simulate_seconds},
          {"seconds", seconds},
          {"saif", saif.string()}};
}

std::string PowerReport::table() const {
  std::string out = fmt::format("{:<16} {:>10} {:>7} {:>12} {:>12} {:>9} {:>12}\n", "module",
                                "toggles/fr", "rate", "pJ/frame", "range", "share", "vectorless");
  const double all = pj_per_frame(total.simulated);
  auto row = [&](const PowerPart& p) {
    const auto& a = p.activity;
    out += fmt::format(
        "{:<16} {:>10.0f} {:>6.1f}% {:>12.1f} {:>5.0f}-{:<6.0f} {:>8.1f}% {:>12.1f}\n", p.label,
        per_frame(a.net_toggles), 100 * a.net_toggle_rate(), pj_per_frame(p.simulated),
        per_frame(p.simulated.low_pj), per_frame(p.simulated.high_pj),
        all > 0 ? 100 * pj_per_frame(p.simulated) / all : 0.0, pj_per_frame(p.vectorless));
  };
  for (const auto& p : parts) row(p);
  row(total);
  out += fmt::format(
      "{} frames simulated ({} clocks, {} per frame) at {} MHz: {:.0f} frames/s; dynamic power "
      "{:.3f} W simulated, {:.3f} W vectorless ({}% toggle rate); {:.3g} frames/J simulated, "
      "{:.3g} vectorless\n",
      images, cycles, cycles_per_frame, clock_mhz, frames_per_second(), watts(total.simulated),
      watts(total.vectorless), 100 * toggle_rate, 1e12 / pj_per_frame(total.simulated),
      1e12 / pj_per_frame(total.vectorless));
  return out;
}

}  // namespace lutnet::flows
