#pragma once
// The hardware half of `lutnet flow`: for a LUTNet model and its XNOR baseline, each through
// hdl -> verify -> synth (the input encoder as a row of its own) -> power, then one comparison
// table and its JSON. Training (LibTorch) stays with the caller.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "core/model.hpp"
#include "data/dataset.hpp"
#include "flows/power.hpp"
#include "flows/synth.hpp"

namespace lutnet::flows {

struct DesignFlowOptions {
  double clock_mhz = 200;   // for the throughput column: not a timing result
  size_t verify_limit = 0;  // the first N test images (0: all; conv models: see verify.hpp)
  bool abc9 = false;
  bool power = true;
  size_t power_limit = 1000;  // frames through the gate-level simulation (streaming: at most 100)
  std::ostream* progress = nullptr;  // one line per step
};

struct DesignResult {
  std::string name;
  double model_accuracy = 0, rtl_accuracy = 0;
  size_t images = 0, mismatches = 0;
  int64_t connections = 0;
  SynthReport synth;  // without the encoder, which is its own row (SynthReport::encoder)
  PowerReport power;
  bool has_power = false;
  double hdl_seconds = 0, verify_seconds = 0;

  double frames_per_second(double clock_mhz) const;
  double frames_per_second_per_lut(double clock_mhz) const;
  double pj_per_frame() const;  // simulated, dynamic; 0 without power
  nlohmann::json to_json(double clock_mhz) const;
};

// Writes OUT/<name>.v (and keeps OUT/<name>-synth), verifies, synthesizes and estimates energy.
DesignResult build_design(const std::string& name, const Model& model, const Dataset& test,
                          const std::filesystem::path& out_dir, const DesignFlowOptions& options);

struct DesignComparison {
  DesignResult lutnet, baseline;
  double clock_mhz = 200;
  std::string matching;  // one line: how the two designs' accuracies were matched

  double area_efficiency_ratio() const;    // frames/s per LUT, LUTNet over baseline
  double energy_efficiency_ratio() const;  // frames/J, LUTNet over baseline; 0 without power
  std::string table() const;
  nlohmann::json to_json() const;
  // Throws lutnet::Error when either design disagrees with the reference evaluator.
  void check() const;
};

}  // namespace lutnet::flows
