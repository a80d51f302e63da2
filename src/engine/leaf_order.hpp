#pragma once
// The engine's choice of which input of a reduced LUT (core/lut_function.hpp) sits at the bottom
// of its mux tree: a leaf pair (f(x0=0), f(x0=1)) that is constant needs no plane load.
#include "core/lut_function.hpp"

namespace lutnet::engine::detail {

// The same function with input v moved to position 0, the others in order.
ReducedLut with_leaf(const ReducedLut& r, int v);

// The order whose leaf pairs (f(x0=0), f(x0=1)) are most often constant.
ReducedLut best_leaf_order(const ReducedLut& r);

}  // namespace lutnet::engine::detail
