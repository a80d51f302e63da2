#pragma once
// What a learned table computes, once for every view (DESIGN.md §3: in[0] is address bit 0).
// The engine and the Verilog writer both reduce a LUT to the inputs its function depends on
// before they build it: repeated inputs merged, ignored inputs dropped. What is left is a
// constant, a wire, an inverter (all free in hardware and in bit-sliced code) or a real LUT of
// 2..6 inputs. The k = 1 XNOR connections of a plain binarized network land on wire / inverter.
#include <cstdint>
#include <span>

#include "core/model.hpp"

namespace lutnet {

// Whether the function of a k-input table changes with input `input` for some address.
bool table_depends_on_input(uint64_t table, int k, int input);

struct ReducedLut {
  enum class Kind { kConst, kWire, kInverter, kLut };
  Kind kind = Kind::kConst;
  int num_inputs = 0;                   // distinct inputs the function depends on, 0..6
  uint32_t inputs[kMaxLutInputs] = {};  // in order of first appearance; inputs[0] is address bit 0
  uint64_t table = 0;                   // 2^num_inputs bits; kConst: 0 or 1

  std::span<const uint32_t> input_list() const { return {inputs, static_cast<size_t>(num_inputs)}; }
  // The value for input bits given by `bit(position)`.
  template <class BitOf>
  bool eval(BitOf bit) const {
    unsigned address = 0;
    for (int i = 0; i < num_inputs; ++i)
      address |= static_cast<unsigned>(bit(inputs[i]) ? 1 : 0) << i;
    return (table >> address) & 1;
  }
};

// `inputs` are the k (0..6) input positions of one connection; `table` uses its low 2^k bits.
ReducedLut reduce_lut(std::span<const uint32_t> inputs, uint64_t table);

}  // namespace lutnet
