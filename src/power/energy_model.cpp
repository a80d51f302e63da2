#include "power/energy_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/read_file.hpp"

namespace lutnet::power {
using nlohmann::json;

namespace {

struct TermInfo {
  const char* key;
  const char* meaning;
  bool combinational;  // scaled by the glitch factor at the range's ends
};

constexpr std::array<TermInfo, kTermCount> kTerms = {{
    {"lut_output_toggle", "per LUT output toggle", true},
    {"carry_output_toggle", "per carry output toggle", true},
    {"ff_output_toggle", "per flip-flop output toggle", false},
    {"ff_clock_edge", "per flip-flop per clock", false},
    {"clock_tree_per_ff", "per flip-flop (and SRL) per clock", false},
    {"net_toggle", "per routed-net toggle", true},
    {"net_fanout_toggle", "per routed-net toggle and fanout pin", true},
    {"srl_shift", "per SRL clock with its enable on", false},
    {"bram18_read", "per enabled RAMB18 port per clock", false},
    {"bram36_read", "per enabled RAMB36 port per clock", false},
}};

const TermInfo& info(Term t) { return kTerms.at(static_cast<size_t>(t)); }

}  // namespace

const char* term_key(Term t) { return info(t).key; }
const char* term_meaning(Term t) { return info(t).meaning; }

EnergyCoefficients builtin_coefficients() {
  EnergyCoefficients c;
  c.family = "Xilinx UltraScale+ (16 nm FinFET, VCCINT 0.85 V)";
  c.origin = "built-in";
  auto set = [&](Term t, double pj, double uncertainty, const char* source) {
    c[t] = {pj, uncertainty, source};
  };
  // No vendor publishes per-event energies (Vivado and XPE keep their models internal): every
  // value is derived from the three public anchors below, or assumed, and good to about x3.
  // docs/power.md has the derivations.
  //  [RPE]   os-fpga rapid_power_estimator, devices/mpw1 fabric_le/clocking/bram.json:
  //          P = V^2 N f C per resource, at 0.8 V.
  //  [Shang] Shang, Kaviani, Bathala, "Dynamic power consumption in Virtex-II FPGA family",
  //          FPGA 2002: routing 60 %, logic 16 %, clocks 14 % of dynamic power.
  //  [XC7]   a public Vivado report (XC7A200T, 1.0 V): LUT as logic 16 mW for 6,403 LUTs,
  //          about 0.16 pJ per LUT toggle at 125 MHz and 12.5 % toggle rate.
  set(Term::kLutOutputToggle, 0.10, 2.5,
      "derived: between [RPE] 0.3 pJ/V^2 at 0.85 V (0.22) and [XC7] scaled to 16 nm (0.09)");
  set(Term::kCarryOutputToggle, 0.03, 3,
      "assumed: about a third of a LUT output, a hard-wired path inside the slice");
  set(Term::kFfOutputToggle, 0.12, 2.5,
      "derived: [RPE] FF 0.35 pJ/V^2 at 0.85 V (0.25), pulled toward [Shang]'s logic share");
  set(Term::kFfClockEdge, 0.002, 3, "published tool coefficient: [RPE] 2.9 fJ/V^2 at 0.85 V");
  set(Term::kClockTreePerFf, 0.02, 3, "derived: [RPE] clock-tree load 0.03 pJ per FF per cycle");
  set(Term::kNetToggle, 0.10, 3,
      "derived: with net_fanout_toggle, a net of fanout 3 (XPE's default, UG440) costs 0.25 pJ, "
      "2.5x a LUT output, the routing-to-logic ratio of [Shang]");
  set(Term::kNetFanoutToggle, 0.05, 3, "derived: as net_toggle");
  set(Term::kSrlShift, 0.03, 3, "assumed: an SRL shift, like a carry output");
  set(Term::kBram18Read, 3, 3,
      "assumed: no public per-access figure found; part of it is on the VCCBRAM rail");
  set(Term::kBram36Read, 5, 3, "assumed: as bram18_read, a larger array");
  // Zero delay sees no glitches: the low end is none; the high end doubles the combinational
  // toggles, which deep adder trees can reach.
  c.glitch_low = 1.0;
  c.glitch_high = 2.0;
  c.glitch_source =
      "Lamoureux, Lemieux, Wilton, GlitchLess, IEEE TVLSI 2008: removing 87 % of glitches saves 17 "
      "% of power (glitches ~20 %); Czajkowski, Fast toggle rate computation for FPGA circuits: "
      "toggle rates can double with glitches";
  return c;
}

json coefficients_json(const EnergyCoefficients& c) {
  json terms = json::object();
  for (size_t i = 0; i < kTermCount; ++i) {
    const Coefficient& k = c.terms[i];
    terms[kTerms[i].key] = {{"pj", k.pj},
                            {"uncertainty", k.uncertainty},
                            {"meaning", kTerms[i].meaning},
                            {"source", k.source}};
  }
  return {
      {"family", c.family},
      {"coefficients", terms},
      {"glitch", {{"low", c.glitch_low}, {"high", c.glitch_high}, {"source", c.glitch_source}}}};
}

namespace {

// A number at `key` of object `o`, at least `minimum`; errors name the origin and the key.
double number_at(const json& o, const std::string& key, double minimum, const std::string& origin,
                 const std::string& where) {
  if (!o.contains(key)) throw Error(fmt::format("{}: {} has no \"{}\"", origin, where, key));
  const json& v = o[key];
  if (!v.is_number())
    throw Error(fmt::format("{}: {}.{} must be a number, not {}", origin, where, key, v.dump()));
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < minimum)
    throw Error(fmt::format("{}: {}.{} = {} must be at least {}", origin, where, key, x, minimum));
  return x;
}

std::string string_at(const json& o, const std::string& key) {
  return o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : std::string();
}

Coefficient read_term(const json& terms, const TermInfo& t, const std::string& origin) {
  if (!terms.contains(t.key))
    throw Error(fmt::format("{}: coefficients has no \"{}\" ({}); every term must be given", origin,
                            t.key, t.meaning));
  const json& o = terms[t.key];
  const std::string where = fmt::format("coefficients.{}", t.key);
  if (!o.is_object())
    throw Error(fmt::format("{}: {} must be an object like {{\"pj\": 0.1, \"uncertainty\": 2}}",
                            origin, where));
  Coefficient c;
  c.pj = number_at(o, "pj", 0, origin, where);
  c.uncertainty = o.contains("uncertainty") ? number_at(o, "uncertainty", 1, origin, where) : 1;
  c.source = string_at(o, "source");
  return c;
}

}  // namespace

EnergyCoefficients parse_coefficients(const std::string& text, const std::string& origin) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(fmt::format("{}: not valid JSON at byte {}", origin, e.byte));
  }
  if (!j.is_object() || !j.contains("coefficients") || !j["coefficients"].is_object())
    throw Error(
        fmt::format("{}: expected an object with \"coefficients\" (docs/power.md)", origin));
  const json& terms = j["coefficients"];
  for (const auto& [key, value] : terms.items()) {
    bool known = false;
    for (const auto& t : kTerms) known = known || key == t.key;
    if (!known) throw Error(fmt::format("{}: unknown coefficient \"{}\"", origin, key));
  }
  EnergyCoefficients c;
  c.family = string_at(j, "family");
  c.origin = origin;
  for (size_t i = 0; i < kTermCount; ++i) c.terms[i] = read_term(terms, kTerms[i], origin);
  if (j.contains("glitch")) {
    const json& g = j["glitch"];
    if (!g.is_object()) throw Error(fmt::format("{}: glitch must be an object", origin));
    c.glitch_low = number_at(g, "low", 1, origin, "glitch");
    c.glitch_high = number_at(g, "high", c.glitch_low, origin, "glitch");
    c.glitch_source = string_at(g, "source");
  }
  return c;
}

EnergyCoefficients read_coefficients(const std::filesystem::path& path) {
  return parse_coefficients(read_text_file(path, "coefficients file"), path.string());
}

ResourceActivity& ResourceActivity::operator+=(const ResourceActivity& o) {
  cycles = std::max(cycles, o.cycles);  // parts of one run share its clocks
  lut_outputs += o.lut_outputs;
  carry_outputs += o.carry_outputs;
  ffs += o.ffs;
  srls += o.srls;
  nets += o.nets;
  fanout += o.fanout;
  bram18_ports += o.bram18_ports;
  bram36_ports += o.bram36_ports;
  lut_output_toggles += o.lut_output_toggles;
  carry_output_toggles += o.carry_output_toggles;
  ff_output_toggles += o.ff_output_toggles;
  net_toggles += o.net_toggles;
  net_fanout_toggles += o.net_fanout_toggles;
  srl_shifts += o.srl_shifts;
  bram18_reads += o.bram18_reads;
  bram36_reads += o.bram36_reads;
  return *this;
}

double ResourceActivity::net_toggle_rate() const {
  return nets && cycles ? net_toggles / (static_cast<double>(nets) * static_cast<double>(cycles))
                        : 0.0;
}

double ResourceActivity::events(Term t) const {
  const double clocks = static_cast<double>(cycles);
  switch (t) {
    case Term::kLutOutputToggle:
      return lut_output_toggles;
    case Term::kCarryOutputToggle:
      return carry_output_toggles;
    case Term::kFfOutputToggle:
      return ff_output_toggles;
    case Term::kFfClockEdge:
      return static_cast<double>(ffs) * clocks;
    case Term::kClockTreePerFf:
      return static_cast<double>(ffs + srls) * clocks;
    case Term::kNetToggle:
      return net_toggles;
    case Term::kNetFanoutToggle:
      return net_fanout_toggles;
    case Term::kSrlShift:
      return srl_shifts;
    case Term::kBram18Read:
      return bram18_reads;
    case Term::kBram36Read:
      return bram36_reads;
  }
  return 0;
}

ResourceActivity vectorless_activity(const ResourceActivity& a, double toggle_rate,
                                     double enable_probability) {
  ResourceActivity v = a;
  const double clocks = static_cast<double>(a.cycles);
  auto toggles = [&](int64_t n) { return static_cast<double>(n) * clocks * toggle_rate; };
  v.lut_output_toggles = toggles(a.lut_outputs);
  v.carry_output_toggles = toggles(a.carry_outputs);
  v.ff_output_toggles = toggles(a.ffs);
  v.net_toggles = toggles(a.nets);
  v.net_fanout_toggles = toggles(a.fanout);
  v.srl_shifts = static_cast<double>(a.srls) * clocks * enable_probability;
  v.bram18_reads = static_cast<double>(a.bram18_ports) * clocks * enable_probability;
  v.bram36_reads = static_cast<double>(a.bram36_ports) * clocks * enable_probability;
  return v;
}

EnergyEstimate price(const ResourceActivity& a, const EnergyCoefficients& c) {
  EnergyEstimate e;
  for (size_t i = 0; i < kTermCount; ++i) {
    const Coefficient& k = c.terms[i];
    const double pj = a.events(static_cast<Term>(i)) * k.pj;
    e.pj[i] = pj;
    e.total_pj += pj;
    const bool glitchy = kTerms[i].combinational;
    e.low_pj += pj / k.uncertainty * (glitchy ? c.glitch_low : 1.0);
    e.high_pj += pj * k.uncertainty * (glitchy ? c.glitch_high : 1.0);
  }
  return e;
}

}  // namespace lutnet::power
