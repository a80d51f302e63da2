#include "hdl/netlist.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/error.hpp"

namespace lutnet::hdl {

Netlist::Netlist() {
  Node zero;
  zero.op = NodeOp::kConst;
  zero.table = 0;
  nodes_.push_back(zero);
  Node one = zero;
  one.table = 1;
  nodes_.push_back(one);
}

Net Netlist::push(const Node& node) {
  nodes_.push_back(node);
  return static_cast<Net>(nodes_.size() - 1);
}

size_t Netlist::NodeHash::operator()(const Node& n) const {
  uint64_t h = static_cast<uint64_t>(n.op) * 0x9e3779b97f4a7c15u ^ n.table;
  for (int i = 0; i < n.num_inputs; ++i) h = (h ^ static_cast<uint64_t>(n.in[i])) * 0x100000001b3u;
  return static_cast<size_t>(h);
}

bool Netlist::NodeEqual::operator()(const Node& a, const Node& b) const {
  if (a.op != b.op || a.num_inputs != b.num_inputs || a.table != b.table) return false;
  for (int i = 0; i < a.num_inputs; ++i)
    if (a.in[i] != b.in[i]) return false;
  return true;
}

Net Netlist::intern(Node node) {
  // Commutative gates: one canonical input order.
  if (node.op == NodeOp::kAnd || node.op == NodeOp::kOr || node.op == NodeOp::kXor ||
      node.op == NodeOp::kMaj)
    std::sort(node.in.begin(), node.in.begin() + node.num_inputs);
  const auto it = interned_.find(node);
  if (it != interned_.end()) return it->second;
  const Net net = push(node);
  interned_.emplace(node, net);
  return net;
}

int Netlist::add_input(std::string name, int width) {
  const int port = static_cast<int>(ports_.size());
  ports_.push_back({std::move(name), width, false});
  std::vector<Net> bits;
  for (int b = 0; b < width; ++b) {
    Node node;
    node.op = NodeOp::kInput;
    node.aux = port;
    node.bit = b;
    bits.push_back(push(node));
  }
  port_bits_.push_back(std::move(bits));
  return port;
}

int Netlist::add_output(std::string name, int width, bool registered) {
  const int port = static_cast<int>(ports_.size());
  ports_.push_back({std::move(name), width, true, registered});
  port_bits_.emplace_back(width, -1);
  return port;
}

Net Netlist::input(int port, int bit) const { return port_bits_.at(port).at(bit); }

void Netlist::set_output(int port, int bit, Net value) {
  if (!ports_.at(port).output) throw Error("netlist: set_output on an input port");
  port_bits_[port].at(bit) = value;
  if (ports_[port].registered) ++num_registers_;
}

void Netlist::comment(std::string text) { comments_.emplace_back(nodes_.size(), std::move(text)); }

Net Netlist::not_(Net a) {
  if (a == kConst0) return kConst1;
  if (a == kConst1) return kConst0;
  if (nodes_[a].op == NodeOp::kNot) return nodes_[a].in[0];
  Node node;
  node.op = NodeOp::kNot;
  node.num_inputs = 1;
  node.in[0] = a;
  return intern(node);
}

Net Netlist::and2(Net a, Net b) {
  if (a == kConst0 || b == kConst0) return kConst0;
  if (a == kConst1) return b;
  if (b == kConst1 || a == b) return a;
  Node node;
  node.op = NodeOp::kAnd;
  node.num_inputs = 2;
  node.in = {a, b};
  return intern(node);
}

Net Netlist::or2(Net a, Net b) {
  if (a == kConst1 || b == kConst1) return kConst1;
  if (a == kConst0) return b;
  if (b == kConst0 || a == b) return a;
  Node node;
  node.op = NodeOp::kOr;
  node.num_inputs = 2;
  node.in = {a, b};
  return intern(node);
}

Net Netlist::xor2(Net a, Net b) {
  if (a == kConst0) return b;
  if (b == kConst0) return a;
  if (a == kConst1) return not_(b);
  if (b == kConst1) return not_(a);
  if (a == b) return kConst0;
  Node node;
  node.op = NodeOp::kXor;
  node.num_inputs = 2;
  node.in = {a, b};
  return intern(node);
}

Net Netlist::maj3(Net a, Net b, Net c) {
  // A constant input turns the majority into AND (0) or OR (1) of the other two.
  if (a == kConst0) return and2(b, c);
  if (b == kConst0) return and2(a, c);
  if (c == kConst0) return and2(a, b);
  if (a == kConst1) return or2(b, c);
  if (b == kConst1) return or2(a, c);
  if (c == kConst1) return or2(a, b);
  if (a == b || a == c) return a;
  if (b == c) return b;
  Node node;
  node.op = NodeOp::kMaj;
  node.num_inputs = 3;
  node.in = {a, b, c};
  return intern(node);
}

Net Netlist::mux(Net select, Net if1, Net if0) {
  if (select == kConst1 || if1 == if0) return if1;
  if (select == kConst0) return if0;
  if (if1 == kConst1 && if0 == kConst0) return select;
  if (if1 == kConst0 && if0 == kConst1) return not_(select);
  Node node;
  node.op = NodeOp::kMux;
  node.num_inputs = 3;
  node.in = {select, if1, if0};
  return intern(node);
}

Net Netlist::lut(std::span<const Net> inputs, uint64_t table) {
  if (inputs.empty() || inputs.size() > 6) throw Error("netlist: a LUT needs 1..6 inputs");
  Node node;
  node.op = NodeOp::kLut;
  node.num_inputs = static_cast<uint8_t>(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) node.in[i] = inputs[i];
  node.table = table;
  return intern(node);
}

std::vector<Net> Netlist::sum(std::vector<SumTerm> terms, int width) {
  Sum s;
  s.terms = std::move(terms);
  s.width = width;
  s.first_bit = static_cast<Net>(nodes_.size());
  const int index = static_cast<int>(sums_.size());
  sums_.push_back(std::move(s));
  std::vector<Net> bits;
  for (int b = 0; b < width; ++b) {
    Node node;
    node.op = NodeOp::kSumBit;
    node.aux = index;
    node.bit = b;
    bits.push_back(push(node));
  }
  return bits;
}

Net Netlist::reg(Net d) {
  // A constant needs no register: it is the same in every pipeline stage.
  if (d == kConst0 || d == kConst1) return d;
  Node node;
  node.op = NodeOp::kReg;
  node.num_inputs = 1;
  node.in[0] = d;
  ++num_registers_;
  return push(node);
}

int64_t Netlist::count(NodeOp op) const {
  int64_t n = 0;
  for (const auto& node : nodes_) n += node.op == op;
  return n;
}

void Netlist::check() const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& node = nodes_[i];
    for (int j = 0; j < node.num_inputs; ++j)
      if (node.in[j] < 0 || static_cast<size_t>(node.in[j]) >= i)
        throw Error(
            fmt::format("netlist: node {} reads node {} which is not earlier", i, node.in[j]));
    const int arity = [&] {
      switch (node.op) {
        case NodeOp::kNot:
        case NodeOp::kReg:
          return 1;
        case NodeOp::kAnd:
        case NodeOp::kOr:
        case NodeOp::kXor:
          return 2;
        case NodeOp::kMaj:
        case NodeOp::kMux:
          return 3;
        case NodeOp::kLut:
          return static_cast<int>(node.num_inputs);
        default:
          return 0;
      }
    }();
    if (node.num_inputs != arity)
      throw Error(
          fmt::format("netlist: node {} has {} inputs, expected {}", i, node.num_inputs, arity));
    if (node.op == NodeOp::kLut && node.num_inputs < 6 &&
        (node.table >> (1u << node.num_inputs)) != 0)
      throw Error(
          fmt::format("netlist: LUT node {} has table bits above 2^{}", i, node.num_inputs));
    if (node.op == NodeOp::kSumBit) {
      const Sum& s = sums_.at(node.aux);
      for (const auto& term : s.terms)
        for (Net b : term.bits)
          if (b < 0 || b >= s.first_bit)
            throw Error(
                fmt::format("netlist: adder {} reads node {} which is not earlier", node.aux, b));
    }
  }
  for (size_t p = 0; p < ports_.size(); ++p) {
    if (!ports_[p].output) continue;
    for (size_t b = 0; b < port_bits_[p].size(); ++b) {
      const Net d = port_bits_[p][b];
      if (d < 0 || static_cast<size_t>(d) >= nodes_.size())
        throw Error(fmt::format("netlist: output {}[{}] is not driven", ports_[p].name, b));
    }
  }
}

std::vector<std::vector<uint64_t>> Netlist::evaluate(
    const std::vector<std::vector<uint64_t>>& inputs) const {
  std::vector<uint64_t> v(nodes_.size(), 0);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    const auto& in = n.in;
    switch (n.op) {
      case NodeOp::kConst:
        v[i] = n.table ? ~uint64_t{0} : 0;
        break;
      case NodeOp::kInput:
        v[i] = inputs.at(n.aux).at(n.bit);
        break;
      case NodeOp::kNot:
        v[i] = ~v[in[0]];
        break;
      case NodeOp::kAnd:
        v[i] = v[in[0]] & v[in[1]];
        break;
      case NodeOp::kOr:
        v[i] = v[in[0]] | v[in[1]];
        break;
      case NodeOp::kXor:
        v[i] = v[in[0]] ^ v[in[1]];
        break;
      case NodeOp::kMaj:
        v[i] = (v[in[0]] & v[in[1]]) | (v[in[2]] & (v[in[0]] | v[in[1]]));
        break;
      case NodeOp::kMux:
        v[i] = (v[in[0]] & v[in[1]]) | (~v[in[0]] & v[in[2]]);
        break;
      case NodeOp::kLut: {
        uint64_t out = 0;
        for (int lane = 0; lane < 64; ++lane) {
          unsigned address = 0;
          for (int j = 0; j < n.num_inputs; ++j)
            address |= static_cast<unsigned>((v[in[j]] >> lane) & 1) << j;
          out |= ((n.table >> address) & 1) << lane;
        }
        v[i] = out;
        break;
      }
      case NodeOp::kSumBit: {
        if (n.bit != 0) break;  // the whole word is computed at bit 0
        const Sum& s = sums_[n.aux];
        for (int lane = 0; lane < 64; ++lane) {
          uint64_t total = 0;
          for (const auto& term : s.terms)
            for (size_t b = 0; b < term.bits.size(); ++b)
              total += ((v[term.bits[b]] >> lane) & 1) << (b + term.shift);
          for (int b = 0; b < s.width; ++b) v[i + b] |= ((total >> b) & 1) << lane;
        }
        break;
      }
      case NodeOp::kReg:
        v[i] = v[in[0]];
        break;
    }
  }
  std::vector<std::vector<uint64_t>> out(ports_.size());
  for (size_t p = 0; p < ports_.size(); ++p) {
    if (!ports_[p].output) continue;
    for (Net d : port_bits_[p]) out[p].push_back(d >= 0 ? v[d] : 0);
  }
  return out;
}

}  // namespace lutnet::hdl
