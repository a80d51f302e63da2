#pragma once
// The activity of a gate-level run as a backward SAIF file (Switching Activity Interchange
// Format 2.0), for Vivado's `read_saif` and `report_power`: one INSTANCE per module instance of
// the design (the top named after its module, the others after their instance names u_layer0,
// ...), under each the named nets of that instance with their time at 0 and 1 (T0, T1) and
// toggle count (TC). Yosys' generated names (_123_, $...) are left out: no other tool's netlist
// has them. The clock toggles twice a cycle.
#include <string>

#include "power/gate_netlist.hpp"
#include "power/gate_simulator.hpp"

namespace lutnet::power {

struct SaifOptions {
  double clock_period_ps = 5000;  // 200 MHz
  std::string date;               // as printed in the header
  std::string program_version;
};

std::string saif_text(const GateNetlist& netlist, const GateActivity& activity,
                      const SaifOptions& options);

// SAIF identifiers escape the characters that are syntax there ("in_data[3]" -> "in_data\[3\]").
std::string saif_identifier(const std::string& name);

}  // namespace lutnet::power
