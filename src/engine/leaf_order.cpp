#include "engine/leaf_order.hpp"

namespace lutnet::engine::detail {

ReducedLut with_leaf(const ReducedLut& r, int v) {
  ReducedLut out = r;
  int order[kMaxLutInputs];  // order[i] = old position of new input i
  order[0] = v;
  for (int i = 0, n = 1; i < r.num_inputs; ++i)
    if (i != v) order[n++] = i;
  out.table = 0;
  for (unsigned b = 0; b < (1u << r.num_inputs); ++b) {
    unsigned a = 0;
    for (int i = 0; i < r.num_inputs; ++i) a |= ((b >> i) & 1u) << order[i];
    out.table |= ((r.table >> a) & 1u) << b;
  }
  for (int i = 0; i < r.num_inputs; ++i) out.inputs[i] = r.inputs[order[i]];
  return out;
}

// Constant leaf pairs read the always-cached zeros/ones planes.
ReducedLut best_leaf_order(const ReducedLut& r) {
  ReducedLut best = r;
  int best_constant = -1;
  for (int v = 0; v < r.num_inputs; ++v) {
    const ReducedLut c = with_leaf(r, v);
    int constant = 0;
    for (int j = 0; j < (1 << (r.num_inputs - 1)); ++j) {
      const unsigned pair = static_cast<unsigned>((c.table >> (2 * j)) & 3u);
      constant += pair == 0 || pair == 3;
    }
    if (constant > best_constant) {
      best_constant = constant;
      best = c;
    }
  }
  return best;
}

}  // namespace lutnet::engine::detail
