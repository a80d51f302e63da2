#pragma once
// From a gate-level run to the energy model's counts, per part of the design: the cells and nets
// of each group of module instances (a layer, the input stage, ...) and what they did. A net
// belongs to the part whose cell drives it (routing energy is spent by the driver).
#include <string>
#include <vector>

#include "power/energy_model.hpp"
#include "power/gate_netlist.hpp"
#include "power/gate_simulator.hpp"

namespace lutnet::power {

// `group_of_instance[i]`: the group of netlist instance i (0 .. groups-1). Nets the top's inputs
// drive belong to the top instance's group. Constants, the clock, and nets no cell reads (an
// unused carry output) are not routed nets. BLIF buffers ($names with one input) pass their
// fanout through to the net they copy.
std::vector<ResourceActivity> summarize_activity(const GateNetlist& netlist,
                                                 const GateActivity& activity,
                                                 const std::vector<int>& group_of_instance,
                                                 size_t groups);

// The cell classes the energy model prices.
enum class CellClass { kLut, kCarry, kFlipFlop, kSrl, kBram18, kBram36, kBuffer, kOther };
CellClass cell_class(const GateCell& cell);

}  // namespace lutnet::power
