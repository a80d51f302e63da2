#include "power/activity_summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "core/error.hpp"

namespace lutnet::power {

namespace {

// A one-input cover that copies its input (Yosys writes connections as these); "0 1" would be
// an inverter, a cell of its own.
bool is_buffer(const GateCell& c) {
  return c.type == "$names" && c.pins.size() == 2 && c.cover.size() == 1 && c.cover[0] == "1 1";
}

std::vector<int> net_drivers(const GateNetlist& n) {
  std::vector<int> driver(n.net_names.size(), -1);
  for (size_t c = 0; c < n.cells.size(); ++c)
    for (size_t p = 0; p < n.cells[c].pins.size(); ++p)
      if (gate_pin_is_output(n.cells[c].type, n.cells[c].pins[p].first))
        driver[n.cells[c].pins[p].second] = static_cast<int>(c);
  return driver;
}

// Pins reading each net, a buffer's input pin replaced by the pins its copy reaches (a buffer
// and its copy are one wire on the chip).
std::vector<int64_t> effective_fanout(const GateNetlist& n) {
  const std::vector<int> direct = n.fanout();
  std::vector<std::vector<int>> copies(n.net_names.size());  // per net: nets buffered from it
  for (const auto& c : n.cells)
    if (is_buffer(c)) copies[c.pins[0].second].push_back(c.pins[1].second);
  std::vector<int64_t> out(direct.size(), -1);
  // Iterative post-order over the copy forest (chains of buffers are short, but stay safe).
  for (size_t root = 0; root < direct.size(); ++root) {
    std::vector<std::pair<int, size_t>> stack = {{static_cast<int>(root), 0}};
    while (!stack.empty()) {
      auto& [net, next] = stack.back();
      if (out[net] >= 0 && next == 0) {
        stack.pop_back();
        continue;
      }
      if (next < copies[net].size()) {
        const int copy = copies[net][next++];
        if (out[copy] < 0) stack.emplace_back(copy, 0);
        continue;
      }
      int64_t f = direct[net] - static_cast<int64_t>(copies[net].size());
      for (int copy : copies[net]) f += std::max<int64_t>(out[copy], 0);
      out[net] = f;
      stack.pop_back();
    }
  }
  return out;
}

// Read ports a block RAM uses (READ_WIDTH_A/B not zero).
int64_t bram_ports(const GateCell& c) {
  int64_t ports = 0;
  for (const char* key : {"READ_WIDTH_A", "READ_WIDTH_B"}) {
    const auto it = c.params.find(key);
    if (it != c.params.end() && it->second.find('1') != std::string::npos) ++ports;
  }
  return ports;
}

int port_net(const GateNetlist& n, const std::string& name) {
  for (const auto& [port, net] : n.inputs)
    if (port == name) return net;
  return -1;
}

}  // namespace

CellClass cell_class(const GateCell& c) {
  const std::string_view t = c.type;
  if (is_buffer(c)) return CellClass::kBuffer;
  if (t.starts_with("LUT")) return CellClass::kLut;  // INV: absorbed into LUTs by Vivado
  if (t.starts_with("CARRY")) return CellClass::kCarry;
  if (t.starts_with("FD")) return CellClass::kFlipFlop;
  if (t.starts_with("SRL")) return CellClass::kSrl;
  if (t.starts_with("RAMB18")) return CellClass::kBram18;
  if (t.starts_with("RAMB36")) return CellClass::kBram36;
  return CellClass::kOther;
}

std::vector<ResourceActivity> summarize_activity(const GateNetlist& n, const GateActivity& a,
                                                 const std::vector<int>& group_of_instance,
                                                 size_t groups) {
  if (group_of_instance.size() != n.instances.size() || a.net_toggles.size() != n.net_names.size())
    throw InternalError("summarize_activity: the activity or the groups are not of this netlist");
  std::vector<ResourceActivity> out(groups);
  for (auto& g : out) g.cycles = a.cycles;
  auto group = [&](int instance) -> ResourceActivity& {
    return out.at(static_cast<size_t>(group_of_instance.at(static_cast<size_t>(instance))));
  };
  for (size_t c = 0; c < n.cells.size(); ++c) {
    const GateCell& cell = n.cells[c];
    ResourceActivity& g = group(cell.instance);
    const double enabled = static_cast<double>(a.cell_enabled_edges[c]);
    switch (cell_class(cell)) {
      case CellClass::kFlipFlop:
        ++g.ffs;
        break;
      case CellClass::kSrl:
        ++g.srls, g.srl_shifts += enabled;
        break;
      case CellClass::kBram18:
        g.bram18_ports += bram_ports(cell), g.bram18_reads += enabled;
        break;
      case CellClass::kBram36:
        g.bram36_ports += bram_ports(cell), g.bram36_reads += enabled;
        break;
      default:
        break;
    }
  }
  const std::vector<int> driver = net_drivers(n);
  const std::vector<int64_t> fanout = effective_fanout(n);
  const int clock = port_net(n, "clk");
  for (size_t net = 0; net < n.net_names.size(); ++net) {
    const int d = driver[net];
    const int i = static_cast<int>(net);
    if (i == n.const0 || i == n.const1 || i == clock || fanout[net] <= 0) continue;
    if (d >= 0 && cell_class(n.cells[d]) == CellClass::kBuffer) continue;  // counted at its source
    ResourceActivity& g = group(d >= 0 ? n.cells[d].instance : 0);
    const double toggles = static_cast<double>(a.net_toggles[net]);
    ++g.nets;
    g.fanout += fanout[net];
    g.net_toggles += toggles;
    g.net_fanout_toggles += toggles * static_cast<double>(fanout[net]);
    if (d < 0) continue;
    switch (cell_class(n.cells[d])) {
      case CellClass::kLut:
        ++g.lut_outputs, g.lut_output_toggles += toggles;
        break;
      case CellClass::kCarry:
        ++g.carry_outputs, g.carry_output_toggles += toggles;
        break;
      case CellClass::kFlipFlop:
        g.ff_output_toggles += toggles;
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace lutnet::power
