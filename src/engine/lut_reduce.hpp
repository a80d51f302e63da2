#pragma once
// LUT simplification shared by the plan builder and the code generator: merge duplicate inputs,
// drop inputs the function does not depend on, and pick the input used at the bottom of the mux
// tree.
#include <cstdint>

#include "core/model.hpp"

namespace lutnet::engine::detail {

// A LUT reduced to the inputs its function depends on (duplicate inputs merged).
struct ReducedLut {
  int ke = 0;          // effective inputs, 0..kMaxLutInputs
  uint64_t table = 0;  // 2^ke bits, bit b = f(input i = bit i of b)
  uint32_t inputs[kMaxLutInputs] = {};
};

ReducedLut reduce_lut(const uint32_t* in, int k, uint64_t table);

// The same function with input v moved to position 0, the others in order.
ReducedLut with_leaf(const ReducedLut& r, int v);

// The order whose leaf pairs (f(x0=0), f(x0=1)) are most often constant.
ReducedLut best_leaf_order(const ReducedLut& r);

}  // namespace lutnet::engine::detail
