#include "core/lut_function.hpp"

#include "core/error.hpp"

namespace lutnet {

bool table_depends_on_input(uint64_t table, int k, int input) {
  for (unsigned a = 0; a < (1u << k); ++a)
    if (!((a >> input) & 1u) && ((table >> a) & 1u) != ((table >> (a | (1u << input))) & 1u))
      return true;
  return false;
}

ReducedLut reduce_lut(std::span<const uint32_t> inputs, uint64_t table) {
  const int k = static_cast<int>(inputs.size());
  if (k > kMaxLutInputs) throw InternalError("reduce_lut: a LUT has at most 6 inputs");
  // Merge repeated inputs: the random extra inputs of logic expansion may repeat a position.
  uint32_t distinct[kMaxLutInputs];
  int position[kMaxLutInputs];
  int m = 0;
  for (int i = 0; i < k; ++i) {
    int p = 0;
    while (p < m && distinct[p] != inputs[i]) ++p;
    if (p == m) distinct[m++] = inputs[i];
    position[i] = p;
  }
  uint64_t merged = 0;  // over the m distinct inputs
  for (unsigned a = 0; a < (1u << m); ++a) {
    unsigned address = 0;
    for (int i = 0; i < k; ++i) address |= ((a >> position[i]) & 1u) << i;
    merged |= ((table >> address) & 1u) << a;
  }
  // Drop the inputs the function ignores.
  int keep[kMaxLutInputs];
  ReducedLut r;
  for (int v = 0; v < m; ++v)
    if (table_depends_on_input(merged, m, v)) keep[r.num_inputs++] = v;
  for (unsigned b = 0; b < (1u << r.num_inputs); ++b) {
    unsigned a = 0;
    for (int i = 0; i < r.num_inputs; ++i) a |= ((b >> i) & 1u) << keep[i];
    r.table |= ((merged >> a) & 1u) << b;
  }
  for (int i = 0; i < r.num_inputs; ++i) r.inputs[i] = distinct[keep[i]];
  if (r.num_inputs == 0)
    r.kind = ReducedLut::Kind::kConst;
  else if (r.num_inputs == 1)
    r.kind = r.table == 0b10 ? ReducedLut::Kind::kWire : ReducedLut::Kind::kInverter;
  else
    r.kind = ReducedLut::Kind::kLut;
  return r;
}

}  // namespace lutnet
