#include "hdl/verilog_emit.hpp"

#include <fmt/format.h>

#include <map>
#include <set>
#include <sstream>
#include <utility>

namespace lutnet::hdl {
namespace {

std::string hex_table(uint64_t table, int inputs) {
  const int bits = 1 << inputs;
  return fmt::format("{}'h{:0{}x}", bits, table, (bits + 3) / 4);
}

class Printer {
 public:
  Printer(const Netlist& nl, const EmitOptions& options) : nl_(nl), options_(options) {
    mark_used();
  }

  std::string print(const std::string& name) {
    std::ostringstream out;
    if (!options_.comment.empty()) {
      std::istringstream lines(options_.comment);
      for (std::string line; std::getline(lines, line);)
        out << (line.empty() ? "//" : "// " + line) << "\n";
    }
    print_header(out, name);
    print_lut_tables(out);
    print_body(out);
    print_registers(out);
    out << "endmodule\n";
    return out.str();
  }

 private:
  void mark_used() {
    const auto& nodes = nl_.nodes();
    used_.assign(nodes.size(), false);
    for (size_t p = 0; p < nl_.ports().size(); ++p)
      if (nl_.ports()[p].output)
        for (Net d : nl_.port_bits(p)) used_[d] = true;
    std::vector<bool> sum_done(nl_.sums().size(), false);
    for (size_t i = nodes.size(); i-- > 0;) {
      if (!used_[i]) continue;
      const Node& n = nodes[i];
      for (int j = 0; j < n.num_inputs; ++j) used_[n.in[j]] = true;
      if (n.op == NodeOp::kSumBit && !sum_done[n.aux]) {
        sum_done[n.aux] = true;
        for (const auto& term : nl_.sums()[n.aux].terms)
          for (Net b : term.bits) used_[b] = true;
      }
    }
  }

  bool all_used(Net first, int count) const {
    for (int b = 0; b < count; ++b)
      if (!used_[first + b]) return false;
    return true;
  }

  std::string name(Net net) const {
    const Node& n = nl_.nodes()[net];
    switch (n.op) {
      case NodeOp::kConst:
        return n.table ? "1'b1" : "1'b0";
      case NodeOp::kInput: {
        const Port& port = nl_.ports()[n.aux];
        return port.width == 1 ? port.name : fmt::format("{}[{}]", port.name, n.bit);
      }
      case NodeOp::kSumBit: {
        const Sum& s = nl_.sums()[n.aux];
        return s.width == 1 ? fmt::format("s{}", s.first_bit)
                            : fmt::format("s{}[{}]", s.first_bit, n.bit);
      }
      case NodeOp::kReg:
        return fmt::format("r{}", net);
      default:
        return fmt::format("n{}", net);
    }
  }

  void print_header(std::ostream& out, const std::string& module) const {
    out << "module " << module << " (\n  input wire clk";
    for (size_t p = 0; p < nl_.ports().size(); ++p) {
      const Port& port = nl_.ports()[p];
      const std::string range = port.width == 1 ? "" : fmt::format("[{}:0] ", port.width - 1);
      bool partly_unused = false;
      if (!port.output)
        for (Net b : nl_.port_bits(p)) partly_unused |= !used_[b];
      out << ",\n";
      // Pruned connections leave input bits that no LUT reads; that is expected here.
      if (partly_unused) out << "  /* verilator lint_off UNUSED */\n";
      out << "  "
          << (!port.output      ? "input wire "
              : port.registered ? "output reg "
                                : "output wire ")
          << range << port.name;
      if (partly_unused) out << "\n  /* verilator lint_on UNUSED */";
    }
    out << "\n);\n";
  }

  // Behavioural tables are constants indexed by the LUT inputs, not function calls: Verilator
  // inlines every call with temporaries of its own (measured on the 28 k-LUT MNIST network: 114 s
  // and 3.1 GB in Verilator, 303 MB of C++, against 69 s, 1.3 GB and 95 MB for this form). One
  // constant per distinct table: the compressor trees repeat the same few tables thousands of
  // times (quick MNIST model: 9.8 k constants instead of 40 k; verify 131 -> 122 s).
  void print_lut_tables(std::ostream& out) {
    if (options_.xilinx_primitives) return;
    for (size_t i = 0; i < nl_.nodes().size(); ++i) {
      const Node& n = nl_.nodes()[i];
      if (!used_[i] || n.op != NodeOp::kLut) continue;
      const auto [it, added] =
          table_index_.try_emplace({n.num_inputs, n.table}, static_cast<int>(table_index_.size()));
      if (!added) continue;
      if (it->second == 0)
        out << "  // A LUT: table t<k>, address {in[K-1], ..., in[0]}; in[0] is the least "
               "significant\n  // address bit (DESIGN.md 3). One t<k> per distinct table.\n";
      out << fmt::format("  localparam [{}:0] t{} = {};\n", (1 << n.num_inputs) - 1, it->second,
                         hex_table(n.table, n.num_inputs));
    }
  }

  void print_body(std::ostream& out) {
    const auto& nodes = nl_.nodes();
    const auto& comments = nl_.comments();
    size_t next_comment = 0;
    for (size_t i = 0; i < nodes.size(); ++i) {
      while (next_comment < comments.size() && comments[next_comment].first <= i)
        out << "  // " << comments[next_comment++].second << "\n";
      const Node& n = nodes[i];
      if (n.op == NodeOp::kSumBit && n.bit == 0) {
        print_sum(out, n.aux);
        continue;
      }
      if (!used_[i]) continue;
      const Net net = static_cast<Net>(i);
      auto in = [&](int j) { return name(n.in[j]); };
      switch (n.op) {
        case NodeOp::kNot:
          out << "  wire " << name(net) << " = ~" << in(0) << ";\n";
          break;
        case NodeOp::kAnd:
          out << "  wire " << name(net) << " = " << in(0) << " & " << in(1) << ";\n";
          break;
        case NodeOp::kOr:
          out << "  wire " << name(net) << " = " << in(0) << " | " << in(1) << ";\n";
          break;
        case NodeOp::kXor:
          out << "  wire " << name(net) << " = " << in(0) << " ^ " << in(1) << ";\n";
          break;
        case NodeOp::kMaj:
          out << fmt::format("  wire {} = ({} & {}) | ({} & ({} | {}));\n", name(net), in(0), in(1),
                             in(2), in(0), in(1));
          break;
        case NodeOp::kMux:
          out << fmt::format("  wire {} = {} ? {} : {};\n", name(net), in(0), in(1), in(2));
          break;
        case NodeOp::kLut:
          print_lut(out, net);
          break;
        case NodeOp::kReg:
          out << "  reg " << name(net) << ";\n";
          registers_.push_back(net);
          break;
        default:
          break;
      }
    }
  }

  void print_lut(std::ostream& out, Net net) {
    const Node& n = nl_.nodes()[net];
    if (options_.xilinx_primitives) {
      out << fmt::format("  wire {0};\n  LUT{1} #(.INIT({2})) u{3} (.O({0})", name(net),
                         n.num_inputs, hex_table(n.table, n.num_inputs), net);
      for (int j = 0; j < n.num_inputs; ++j) out << fmt::format(", .I{}({})", j, name(n.in[j]));
      out << ");\n";
      return;
    }
    // A counter's output tables read the same inputs: one address wire for all of them, so
    // Verilator sees one concatenation instead of three (quick MNIST verify: 122 -> 110 s).
    std::string address;
    if (address_owner_ >= 0 && same_inputs(address_owner_, net)) {
      address = fmt::format("a{}", address_owner_);
    } else if (const int64_t next = next_used(net); next >= 0 && same_inputs(net, next)) {
      out << fmt::format("  wire [{}:0] a{} = {};\n", n.num_inputs - 1, net, concatenation(n));
      address_owner_ = net;
      address = fmt::format("a{}", net);
    } else {
      address_owner_ = -1;
      address = concatenation(n);
    }
    out << fmt::format("  wire {} = t{}[{}];\n", name(net),
                       table_index_.at({n.num_inputs, n.table}), address);
  }

  // A LUT's address: {in[K-1], ..., in[0]}.
  std::string concatenation(const Node& n) const {
    std::string s = "{";
    for (int j = n.num_inputs - 1; j >= 0; --j) s += name(n.in[j]) + (j ? ", " : "");
    return s + "}";
  }

  // The next node printed after `net`, or -1.
  int64_t next_used(Net net) const {
    for (size_t i = static_cast<size_t>(net) + 1; i < used_.size(); ++i)
      if (used_[i]) return static_cast<int64_t>(i);
    return -1;
  }

  // Whether both nodes are LUTs on the same inputs in the same order.
  bool same_inputs(int64_t a, int64_t b) const {
    const Node& x = nl_.nodes()[static_cast<size_t>(a)];
    const Node& y = nl_.nodes()[static_cast<size_t>(b)];
    if (x.op != NodeOp::kLut || y.op != NodeOp::kLut || x.num_inputs != y.num_inputs) return false;
    for (int j = 0; j < x.num_inputs; ++j)
      if (x.in[j] != y.in[j]) return false;
    return true;
  }

  void print_sum(std::ostream& out, int index) const {
    const Sum& s = nl_.sums()[index];
    bool any = false;
    for (int b = 0; b < s.width; ++b) any |= used_[s.first_bit + b];
    if (!any) return;
    const bool partly = !all_used(s.first_bit, s.width);
    // Low adder bits below the lowest threshold bit feed only the carry chain.
    if (partly) out << "  /* verilator lint_off UNUSED */\n";
    out << "  wire " << (s.width == 1 ? "" : fmt::format("[{}:0] ", s.width - 1))
        << fmt::format("s{} = ", s.first_bit);
    for (size_t t = 0; t < s.terms.size(); ++t) {
      if (t) out << " + ";
      out << term(s.terms[t], s.width);
    }
    out << ";\n";
    if (partly) out << "  /* verilator lint_on UNUSED */\n";
  }

  // A term as a concatenation exactly `width` bits wide, so no operand is silently extended.
  std::string term(const SumTerm& t, int width) const {
    std::vector<std::string> parts;
    int zeros = 0;
    auto flush = [&] {
      if (zeros) parts.push_back(fmt::format("{}'d0", zeros));
      zeros = 0;
    };
    for (int p = width - 1; p >= 0; --p) {
      const int b = p - t.shift;
      if (b < 0 || b >= static_cast<int>(t.bits.size()) || t.bits[b] == kConst0) {
        ++zeros;
        continue;
      }
      flush();
      parts.push_back(name(t.bits[b]));
    }
    flush();
    if (parts.size() == 1) return parts[0];
    std::string s = "{";
    for (size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : "") + parts[i];
    return s + "}";
  }

  void print_registers(std::ostream& out) const {
    for (size_t p = 0; p < nl_.ports().size(); ++p) {
      const Port& port = nl_.ports()[p];
      if (!port.output || port.registered) continue;
      const auto& bits = nl_.port_bits(p);
      for (size_t b = 0; b < bits.size(); ++b)
        out << "  assign " << (port.width == 1 ? port.name : fmt::format("{}[{}]", port.name, b))
            << " = " << name(bits[b]) << ";\n";
    }
    bool any = !registers_.empty();
    for (const Port& port : nl_.ports()) any |= port.output && port.registered;
    if (!any) return;
    out << "  always @(posedge clk) begin\n";
    for (Net r : registers_)
      out << "    " << name(r) << " <= " << name(nl_.nodes()[r].in[0]) << ";\n";
    for (size_t p = 0; p < nl_.ports().size(); ++p) {
      const Port& port = nl_.ports()[p];
      if (!port.output || !port.registered) continue;
      const auto& bits = nl_.port_bits(p);
      for (size_t b = 0; b < bits.size(); ++b)
        out << "    " << (port.width == 1 ? port.name : fmt::format("{}[{}]", port.name, b))
            << " <= " << name(bits[b]) << ";\n";
    }
    out << "  end\n";
  }

  const Netlist& nl_;
  const EmitOptions& options_;
  std::vector<bool> used_;
  std::vector<Net> registers_;
  std::map<std::pair<int, uint64_t>, int> table_index_;  // behavioural tables: (K, table) -> t<k>
  int64_t address_owner_ = -1;  // the LUT whose address wire a<net> the following LUTs share
};

}  // namespace

std::string emit_module(const Netlist& netlist, const std::string& name,
                        const EmitOptions& options) {
  netlist.check();
  return Printer(netlist, options).print(name);
}

std::string xilinx_lut_simulation_models() {
  std::string out =
      "// Simulation models of the Xilinx LUT1..LUT6 primitives (port names and INIT as in the\n"
      "// UltraScale libraries guide). For simulators only; synthesis uses the vendor cells.\n"
      "/* verilator lint_off DECLFILENAME */\n";
  for (int k = 1; k <= 6; ++k) {
    out += fmt::format("module LUT{} #(parameter [{}:0] INIT = {}'h0) (\n  output wire O", k,
                       (1 << k) - 1, 1 << k);
    for (int j = 0; j < k; ++j) out += fmt::format(",\n  input wire I{}", j);
    out += "\n);\n  assign O = INIT[{";
    for (int j = k - 1; j >= 0; --j) out += fmt::format("I{}{}", j, j ? ", " : "");
    out += "}];\nendmodule\n";
  }
  return out;
}

}  // namespace lutnet::hdl
