#pragma once
// Circuits of two-input word operations (AND, OR, XOR, AND-NOT) for the functions of reduced LUTs,
// for ISAs without a three-input logic instruction (AVX2: vpand, vpor, vpxor, vpandn). Code
// generation needs one per LUT of a layer, so they are cheap to build: the functions of up to 4
// inputs come from a table of smallest formulas (found once by dynamic programming over all 65536
// functions), larger ones are split on their best input (Shannon or Davio expansion) down to
// that table.
#include <cstdint>
#include <vector>

namespace lutnet::engine::detail {

enum class GateOp : uint8_t {
  kAnd,
  kOr,
  kXor,
  kAndNot,  // ~a & b (vpandn a, b)
};

struct Gate {
  GateOp op;
  uint8_t a, b;  // nodes
};

// Nodes of a circuit over n inputs: 0..n-1 are the inputs, n..2n-1 their complements (used only
// when the caller has them for free), 2n the zeros constant, 2n + 1 the ones constant, and gate g
// is node 2n + 2 + g. Every gate reads only earlier nodes.
struct LutCircuit {
  int num_inputs = 0;
  std::vector<Gate> gates;
  int output = 0;

  int zeros() const { return 2 * num_inputs; }
  int ones() const { return 2 * num_inputs + 1; }
  int first_gate() const { return 2 * num_inputs + 2; }
};

// A short circuit for the function `table` of `num_inputs` (1..6) inputs, bit a of the table being
// f(x) for the inputs x = a (input 0 is bit 0). complements: the complement of every input is
// available without an operation; else a NOT is an XOR with the ones constant.
LutCircuit lut_circuit(uint64_t table, int num_inputs, bool complements);

// The truth table the circuit computes (for tests).
uint64_t circuit_table(const LutCircuit& circuit);

}  // namespace lutnet::engine::detail
