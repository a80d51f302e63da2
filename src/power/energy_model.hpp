#pragma once
// The energy model of `lutnet power`: what a design did (ResourceActivity: toggles, clock edges,
// memory reads, counted in a gate-level simulation or assumed vectorlessly) times one table of
// coefficients in picojoules (EnergyCoefficients), each with its source, its uncertainty and the
// device family it stands for. docs/power.md prints the built-in table and its derivations.
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace lutnet::power {

// The priced events. Per-toggle terms count transitions of a net's settled value from one clock
// to the next; per-cycle terms count every clock.
enum class Term : size_t {
  kLutOutputToggle,    // a LUT1..LUT6 output (the cell's internal switching)
  kCarryOutputToggle,  // a CARRY4/CARRY8 output
  kFfOutputToggle,     // a flip-flop output
  kFfClockEdge,        // a flip-flop's clock pin, per flip-flop per clock
  kClockTreePerFf,     // the clock network to it, per flip-flop (and SRL) per clock
  kNetToggle,          // a routed net: the driver and its first wire, per toggle
  kNetFanoutToggle,    // the same per toggle and per pin it reaches (fanout)
  kSrlShift,           // a shift-register LUT (SRL16E/SRLC32E) clock with its enable on
  kBram18Read,         // an enabled port of a RAMB18 on a clock
  kBram36Read,         // the same for a RAMB36
};
inline constexpr size_t kTermCount = 10;
const char* term_key(Term t);      // "lut_output_toggle", ... (the coefficients file's keys)
const char* term_meaning(Term t);  // "per LUT output toggle", ...

struct Coefficient {
  double pj = 0;           // energy per event
  double uncertainty = 2;  // the true value lies within pj / uncertainty .. pj * uncertainty
  std::string source;      // where the value comes from and how it was derived
};

struct EnergyCoefficients {
  std::string family;  // the device family it stands for ("Xilinx UltraScale+ (16 nm), ...")
  std::string origin;  // "built-in" or the file it was read from
  std::array<Coefficient, kTermCount> terms;
  // A zero-delay simulation sees no glitches. Their share is given as a factor range on the
  // combinational terms (LUT, carry and net toggles): the estimate's low end uses glitch_low,
  // its high end glitch_high; the central figure has none.
  double glitch_low = 1, glitch_high = 1;
  std::string glitch_source;
  const Coefficient& operator[](Term t) const { return terms[static_cast<size_t>(t)]; }
  Coefficient& operator[](Term t) { return terms[static_cast<size_t>(t)]; }
};

EnergyCoefficients builtin_coefficients();
// A user's table (docs/power.md): {"family": "...", "coefficients": {"lut_output_toggle":
// {"pj": 0.01, "uncertainty": 2, "source": "..."}, ...}, "glitch": {"low": 1, "high": 1.5,
// "source": "..."}}. Every term must be given; errors name the file and the key at fault.
EnergyCoefficients read_coefficients(const std::filesystem::path& path);
EnergyCoefficients parse_coefficients(const std::string& text, const std::string& origin);
nlohmann::json coefficients_json(const EnergyCoefficients& c);

// What a part of a design is (cells, nets) and what it did over `cycles` clocks.
struct ResourceActivity {
  uint64_t cycles = 0;
  // Structure: output nets of LUTs and carries, flip-flops, SRLs, block RAMs (ports in use),
  // routed nets (not constants or the clock) and the pins they reach.
  int64_t lut_outputs = 0, carry_outputs = 0, ffs = 0, srls = 0, nets = 0, fanout = 0;
  int64_t bram18_ports = 0, bram36_ports = 0;
  // Events.
  double lut_output_toggles = 0, carry_output_toggles = 0, ff_output_toggles = 0;
  double net_toggles = 0, net_fanout_toggles = 0;  // the latter: sum of toggles x fanout
  double srl_shifts = 0, bram18_reads = 0, bram36_reads = 0;

  ResourceActivity& operator+=(const ResourceActivity& o);
  // Events per clock over all nets.
  double net_toggle_rate() const;
  // The events of the term over the run (per-cycle terms: flip-flops x cycles).
  double events(Term t) const;
};

// The same structure with Vivado's vectorless defaults for a run of the same length: every net
// (LUT, carry and flip-flop outputs alike) toggles on `toggle_rate` of the clocks, and clock
// enables and memory enables are on with `enable_probability` (Vivado: 12.5 % and 0.5).
ResourceActivity vectorless_activity(const ResourceActivity& a, double toggle_rate = 0.125,
                                     double enable_probability = 0.5);

struct EnergyEstimate {
  std::array<double, kTermCount> pj{};  // per term, central
  double total_pj = 0, low_pj = 0, high_pj = 0;
};
EnergyEstimate price(const ResourceActivity& a, const EnergyCoefficients& c);

}  // namespace lutnet::power
