#include "power/saif_writer.hpp"

#include <fmt/format.h>

#include <cmath>
#include <sstream>

#include "core/error.hpp"

namespace lutnet::power {

std::string saif_identifier(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '[' || c == ']' || c == '.' || c == '/' || c == '(' || c == ')' || c == '\\' ||
        c == ' ' || c == '$' || c == ':')
      out += '\\';
    out += c;
  }
  return out;
}

namespace {

// The net's name inside its instance, or empty when it is one of Yosys' generated names.
std::string local_name(const GateNetlist& n, size_t net) {
  const std::string& full = n.net_names[net];
  const std::string& path = n.instances.at(static_cast<size_t>(n.net_instance[net])).path;
  std::string local = path.empty() ? full : full.substr(std::min(full.size(), path.size() + 1));
  if (local.empty() || local[0] == '_' || local[0] == '$') return {};
  return local;
}

struct Writer {
  const GateNetlist& n;
  const GateActivity& a;
  const SaifOptions& o;
  std::vector<std::vector<size_t>> nets_of;      // per instance: its named nets
  std::vector<std::vector<size_t>> children_of;  // per instance
  int clock = -1;
  std::ostringstream out;

  int64_t ps(uint64_t cycles) const {
    return std::llround(static_cast<double>(cycles) * o.clock_period_ps);
  }

  void net(size_t i, const std::string& indent) {
    const int64_t duration = ps(a.cycles);
    int64_t t1 = ps(a.net_high[i]), tc = static_cast<int64_t>(a.net_toggles[i]);
    if (static_cast<int>(i) == clock) t1 = duration / 2, tc = 2 * static_cast<int64_t>(a.cycles);
    out << fmt::format("{}({}\n{}  (T0 {}) (T1 {}) (TX 0)\n{}  (TC {}) (IG 0)\n{})\n", indent,
                       saif_identifier(local_name(n, i)), indent, duration - t1, t1, indent, tc,
                       indent);
  }

  void instance(size_t i, const std::string& indent) {
    const GateInstance& inst = n.instances[i];
    const std::string name = inst.parent < 0 ? n.top : inst.path.substr(inst.path.rfind('.') + 1);
    out << fmt::format("{}(INSTANCE {}\n", indent, saif_identifier(name));
    if (!nets_of[i].empty()) {
      out << indent << "  (NET\n";
      for (size_t net_index : nets_of[i]) net(net_index, indent + "    ");
      out << indent << "  )\n";
    }
    for (size_t child : children_of[i]) instance(child, indent + "  ");
    out << indent << ")\n";
  }
};

}  // namespace

std::string saif_text(const GateNetlist& n, const GateActivity& a, const SaifOptions& o) {
  if (a.net_toggles.size() != n.net_names.size() || n.net_instance.size() != n.net_names.size())
    throw InternalError("saif_text: the activity is not of this netlist");
  Writer w{n,
           a,
           o,
           std::vector<std::vector<size_t>>(n.instances.size()),
           std::vector<std::vector<size_t>>(n.instances.size()),
           -1,
           {}};
  for (const auto& [port, net] : n.inputs)
    if (port == "clk") w.clock = net;
  for (size_t net = 0; net < n.net_names.size(); ++net)
    if (static_cast<int>(net) != n.const0 && static_cast<int>(net) != n.const1 &&
        !local_name(n, net).empty())
      w.nets_of[static_cast<size_t>(n.net_instance[net])].push_back(net);
  size_t top = 0;
  for (size_t i = 0; i < n.instances.size(); ++i) {
    if (n.instances[i].parent >= 0)
      w.children_of[static_cast<size_t>(n.instances[i].parent)].push_back(i);
    else
      top = i;
  }
  w.out << "(SAIFILE\n(SAIFVERSION \"2.0\")\n(DIRECTION \"backward\")\n";
  w.out << fmt::format("(DESIGN \"{}\")\n(DATE \"{}\")\n(VENDOR \"lutnet\")\n", n.top, o.date);
  w.out << fmt::format("(PROGRAM_NAME \"lutnet power\")\n(VERSION \"{}\")\n", o.program_version);
  w.out << "(DIVIDER / )\n(TIMESCALE 1 ps)\n";
  w.out << fmt::format("(DURATION {})\n", w.ps(a.cycles));
  w.instance(top, "");
  w.out << ")\n";
  return w.out.str();
}

}  // namespace lutnet::power
