#include "engine/lut_reduce.hpp"

namespace lutnet::engine::detail {

ReducedLut reduce_lut(const uint32_t* in, int k, uint64_t table) {
  uint32_t distinct[kMaxLutInputs];
  int pos[kMaxLutInputs];
  int m = 0;
  for (int i = 0; i < k; ++i) {
    int p = 0;
    while (p < m && distinct[p] != in[i]) ++p;
    if (p == m) distinct[m++] = in[i];
    pos[i] = p;
  }
  uint64_t f = 0;  // over the m distinct inputs
  for (unsigned a = 0; a < (1u << m); ++a) {
    unsigned address = 0;
    for (int i = 0; i < k; ++i) address |= ((a >> pos[i]) & 1u) << i;
    f |= ((table >> address) & 1u) << a;
  }
  int keep[kMaxLutInputs];
  int ke = 0;
  for (int v = 0; v < m; ++v) {
    bool depends = false;
    for (unsigned a = 0; a < (1u << m) && !depends; ++a)
      if (!((a >> v) & 1u)) depends = ((f >> a) & 1u) != ((f >> (a | (1u << v))) & 1u);
    if (depends) keep[ke++] = v;
  }
  ReducedLut r;
  r.ke = ke;
  for (unsigned b = 0; b < (1u << ke); ++b) {
    unsigned a = 0;
    for (int i = 0; i < ke; ++i) a |= ((b >> i) & 1u) << keep[i];
    r.table |= ((f >> a) & 1u) << b;
  }
  for (int i = 0; i < ke; ++i) r.inputs[i] = distinct[keep[i]];
  return r;
}

ReducedLut with_leaf(const ReducedLut& r, int v) {
  ReducedLut out = r;
  int order[kMaxLutInputs];  // order[i] = old position of new input i
  order[0] = v;
  for (int i = 0, n = 1; i < r.ke; ++i)
    if (i != v) order[n++] = i;
  out.table = 0;
  for (unsigned b = 0; b < (1u << r.ke); ++b) {
    unsigned a = 0;
    for (int i = 0; i < r.ke; ++i) a |= ((b >> i) & 1u) << order[i];
    out.table |= ((r.table >> a) & 1u) << b;
  }
  for (int i = 0; i < r.ke; ++i) out.inputs[i] = r.inputs[order[i]];
  return out;
}

// Constant leaf pairs read the always-cached zeros/ones planes.
ReducedLut best_leaf_order(const ReducedLut& r) {
  ReducedLut best = r;
  int best_constant = -1;
  for (int v = 0; v < r.ke; ++v) {
    const ReducedLut c = with_leaf(r, v);
    int constant = 0;
    for (int j = 0; j < (1 << (r.ke - 1)); ++j) {
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
