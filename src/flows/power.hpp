#pragma once
// `lutnet power`: energy per frame of the synthesized design. The netlist `lutnet synth` makes
// (Yosys, Xilinx UltraScale+ primitives, per-layer runs) is simulated gate by gate on the test
// images at full rate -- the cells that switch on the chip are its LUTs, carries, flip-flops,
// SRLs and block RAMs, not the RTL's operators -- and every class and score is checked against
// the reference evaluator. The toggles are priced by the energy model (power/energy_model.hpp);
// beside it, the same netlist under Vivado's vectorless defaults. Optionally a SAIF file of the
// activity and a Vivado script that reads it and runs report_power.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "data/dataset.hpp"
#include "flows/synth.hpp"
#include "power/energy_model.hpp"

namespace lutnet::flows {

struct PowerOptions {
  SynthOptions synth;  // the netlist (its work_dir, when set, keeps the Yosys files)
  // A kept `synthesize` run of this design with the same options (its work_dir with the BLIF
  // files, and its report): simulated instead of synthesizing again, unless it has SRLs, which
  // Yosys 0.23 gets wrong (synth.hpp).
  const SynthReport* synthesized = nullptr;
  hdl::HdlOptions hdl;
  size_t limit = 0;        // the first N test images (0: all)
  double clock_mhz = 200;  // for power and frames/s
  power::EnergyCoefficients coefficients = power::builtin_coefficients();
  double toggle_rate = 0.125;  // the vectorless figure (Vivado's defaults)
  double enable_probability = 0.5;
  std::filesystem::path saif;  // write the activity here (empty: no SAIF)
  std::filesystem::path tcl;   // and a Vivado script that reads it (with the Verilog)
  std::string part;            // for that script
  // Compare against this model's reference instead of the simulated one (fault injection in
  // tests: it must have the same shape).
  const Model* reference_model = nullptr;
  // Called every few seconds of simulation with frames done and to do.
  std::function<void(size_t done, size_t total, double seconds)> progress;
};

// One module of the design (as in lutnet synth's rows), or the total.
struct PowerPart {
  std::string label;
  power::ResourceActivity activity;  // over the whole run
  power::EnergyEstimate simulated;   // over the whole run
  power::EnergyEstimate vectorless;
};

struct PowerReport {
  size_t images = 0;
  size_t mismatches = 0;  // frames whose class or scores differ from the reference
  long first_mismatch_image = -1;
  std::string first_mismatch;
  uint64_t cycles = 0;       // clocks simulated (from the first input to the last result)
  int cycles_per_frame = 1;  // the design's initiation interval
  double clock_mhz = 200;
  double toggle_rate = 0.125;  // of the vectorless figure
  std::vector<PowerPart> parts;
  PowerPart total;
  SynthReport synth;
  double simulate_seconds = 0, seconds = 0;
  uint64_t cells = 0, nets = 0;
  std::string family, coefficients_origin;
  std::filesystem::path saif, tcl;

  double frames_per_second() const { return clock_mhz * 1e6 / cycles_per_frame; }
  double per_frame(double over_run) const {
    return images ? over_run / static_cast<double>(images) : 0.0;
  }
  double pj_per_frame(const power::EnergyEstimate& e) const { return per_frame(e.total_pj); }
  // Power while the design runs at full rate (frames_per_second), in watts.
  double watts(const power::EnergyEstimate& e) const {
    return pj_per_frame(e) * 1e-12 * frames_per_second();
  }
  bool passed() const { return mismatches == 0; }
  nlohmann::json to_json() const;
  std::string table() const;
};

PowerReport estimate_power(const Model& model, const Dataset& data, const PowerOptions& options);

}  // namespace lutnet::flows
