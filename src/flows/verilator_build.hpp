#pragma once
// Building a Verilated simulator and running it, with progress on stderr: shared by the
// whole-design verification (verify.cpp) and the per-stage one (stage_verify.cpp).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/seconds_since.hpp"

namespace lutnet::flows {

// Writes `bytes` to `path` (a work-directory file, so no atomic rename is needed).
void write_binary(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);

struct SimulatorBuild {
  std::filesystem::path dir;                   // work directory: obj/sim is built here
  std::vector<std::filesystem::path> sources;  // Verilog, harness.cpp, Verilator config files
  std::string top_module;
  int jobs = 1;  // parallel C++ compiles
  // C++ optimization of the generated model: -O0 builds several times faster, -O1 runs several
  // times faster (docs/hardware.md); pick by how many clocks it will simulate.
  std::string optimization = "-O0";
  // Verilator's second data-flow optimization, after inlining; off where the big modules are
  // kept apart (no_inline), as there it finds little (verify: 6.5 of 92 s of Verilator).
  bool optimize_after_inlining = true;
  std::string label;  // names the simulator in progress lines ("" for the whole design)
};

// Verilates and compiles; returns the wall time. Past 30 s, says every 30 s how far it got.
double build_simulator(const std::filesystem::path& verilator, const SimulatorBuild& build);

// Runs dir/obj/sim inputs.bin outputs.bin; returns the wall time. Past ten seconds, shows every
// ten seconds how far it got (from the harness's `progress` file: "done total").
double run_simulator(const std::filesystem::path& dir, const std::string& label);

}  // namespace lutnet::flows
