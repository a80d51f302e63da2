#pragma once
// A small bit-level netlist: the form every generated module takes before it becomes Verilog.
// Nodes are created in topological order (a node reads only earlier nodes), so one forward pass
// evaluates it and one forward pass prints it. Gates fold constants on construction, so a
// compressor fed a constant bit shrinks instead of leaving dead logic for synthesis to find.
//
// Identical gates are shared (structural hashing), so the printed Verilog has no duplicates.
//
// Node kinds: constants, input port bits, NOT/AND/OR/XOR/MAJ/MUX gates, learned LUTs (a K-input
// table, DESIGN.md §3 bit order), bits of a word adder (the final carry-propagate adder of a
// compressor tree, left to the synthesis tool's carry chain), and registers.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace lutnet::hdl {

using Net = int32_t;
inline constexpr Net kConst0 = 0;
inline constexpr Net kConst1 = 1;

enum class NodeOp : uint8_t {
  kConst,
  kInput,
  kNot,
  kAnd,
  kOr,
  kXor,
  kMaj,
  kMux,
  kLut,
  kSumBit,
  kReg
};

struct Node {
  NodeOp op = NodeOp::kConst;
  uint8_t num_inputs = 0;
  std::array<Net, 6> in{};  // kMux: in[0] select, in[1] value if 1, in[2] value if 0
  uint64_t table = 0;       // kLut: truth table (in[0] = address bit 0); kConst: value
  int32_t aux = 0;          // kInput: port; kSumBit: index of the Sum
  int32_t bit = 0;          // kInput, kSumBit: bit index
};

// One operand of a word adder: value = sum_i bits[i] << (i + shift).
struct SumTerm {
  std::vector<Net> bits;
  int shift = 0;
};

// A word adder; its result bits are kSumBit nodes, truncated to `width` bits.
struct Sum {
  std::vector<SumTerm> terms;
  int width = 0;
  Net first_bit = 0;
};

struct Port {
  std::string name;
  int width = 0;
  bool output = false;
  bool registered = true;  // output ports: a register per bit, or wires (combinational)
};

class Netlist {
 public:
  Netlist();

  // Input ports get one node per bit up front; output ports are registered (`reg` ports), or
  // with registered = false combinational (`wire` ports, for a parent that registers them).
  int add_input(std::string name, int width);
  int add_output(std::string name, int width, bool registered = true);
  Net input(int port, int bit) const;
  void set_output(int port, int bit, Net value);

  Net constant(bool value) const { return value ? kConst1 : kConst0; }
  Net not_(Net a);
  Net and2(Net a, Net b);
  Net or2(Net a, Net b);
  Net xor2(Net a, Net b);
  Net xor3(Net a, Net b, Net c) { return xor2(xor2(a, b), c); }
  Net maj3(Net a, Net b, Net c);
  Net mux(Net select, Net if1, Net if0);
  // A table over up to 6 inputs. The caller has reduced the table to its support
  // (lut_function.hpp); no simplification happens here.
  Net lut(std::span<const Net> inputs, uint64_t table);
  // Word adder of the given terms, `width` result bits (LSB first).
  std::vector<Net> sum(std::vector<SumTerm> terms, int width);
  Net reg(Net d);

  // A comment printed before the next node that is created.
  void comment(std::string text);

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Sum>& sums() const { return sums_; }
  const std::vector<Port>& ports() const { return ports_; }
  const std::vector<Net>& port_bits(size_t port) const { return port_bits_[port]; }
  const std::vector<std::pair<size_t, std::string>>& comments() const { return comments_; }
  bool has_registers() const { return num_registers_ > 0; }
  int64_t count(NodeOp op) const;

  // Throws lutnet::Error on a broken invariant: a node reading itself or a later node, a bad arity,
  // a table wider than its inputs, an output bit never set.
  void check() const;

  // Bit-sliced evaluation of 64 input vectors at once, registers taken as transparent (the value a
  // register holds once the pipeline is full). `inputs[p][b]` holds lane bits of input port p bit
  // b; returns the same for output ports, indexed by port (input ports get empty vectors).
  std::vector<std::vector<uint64_t>> evaluate(
      const std::vector<std::vector<uint64_t>>& inputs) const;

 private:
  Net push(const Node& node);
  Net intern(Node node);  // push, or return the identical node made before

  struct NodeHash {
    size_t operator()(const Node& n) const;
  };
  struct NodeEqual {
    bool operator()(const Node& a, const Node& b) const;
  };
  std::unordered_map<Node, Net, NodeHash, NodeEqual> interned_;

  std::vector<Node> nodes_;
  std::vector<Sum> sums_;
  std::vector<Port> ports_;
  std::vector<std::vector<Net>> port_bits_;  // inputs: nodes; outputs: drivers (-1 = unset)
  std::vector<std::pair<size_t, std::string>> comments_;  // before node index
  int64_t num_registers_ = 0;
};

}  // namespace lutnet::hdl
