#include "hdl/lut_function.hpp"

namespace lutnet::hdl {
namespace {

uint64_t mask_for(size_t vars) {
  return vars >= 6 ? ~uint64_t{0} : (uint64_t{1} << (1u << vars)) - 1;
}

// Removes variable j; its value becomes `same_as` (an index into the remaining variables, or -1 to
// read it as 0, used once the table is known not to depend on it).
uint64_t drop_variable(uint64_t table, size_t vars, size_t j, int same_as) {
  uint64_t out = 0;
  for (unsigned a = 0; a < (1u << (vars - 1)); ++a) {
    const unsigned bit = same_as < 0 ? 0u : (a >> same_as) & 1u;
    const unsigned low = a & ((1u << j) - 1);
    const unsigned old = low | (bit << j) | ((a >> j) << (j + 1));
    out |= ((table >> old) & 1) << a;
  }
  return out;
}

bool depends_on(uint64_t table, size_t vars, size_t j) {
  for (unsigned a = 0; a < (1u << vars); ++a)
    if (!((a >> j) & 1) && ((table >> a) & 1) != ((table >> (a | (1u << j))) & 1)) return true;
  return false;
}

}  // namespace

ReducedLut reduce_lut(std::span<const uint32_t> inputs, uint64_t table) {
  std::vector<uint32_t> vars(inputs.begin(), inputs.end());
  table &= mask_for(vars.size());
  // Merge repeated inputs: the random extra inputs of logic expansion may repeat a position.
  for (size_t j = 1; j < vars.size();) {
    size_t i = 0;
    while (i < j && vars[i] != vars[j]) ++i;
    if (i < j) {
      table = drop_variable(table, vars.size(), j, static_cast<int>(i));
      vars.erase(vars.begin() + static_cast<std::ptrdiff_t>(j));
    } else {
      ++j;
    }
  }
  for (size_t j = 0; j < vars.size();) {
    if (!depends_on(table, vars.size(), j)) {
      table = drop_variable(table, vars.size(), j, -1);
      vars.erase(vars.begin() + static_cast<std::ptrdiff_t>(j));
    } else {
      ++j;
    }
  }
  ReducedLut r;
  r.inputs = std::move(vars);
  r.table = table & mask_for(r.inputs.size());
  if (r.inputs.empty())
    r.kind = ReducedLut::Kind::kConst;
  else if (r.inputs.size() == 1)
    r.kind = r.table == 0b10 ? ReducedLut::Kind::kWire : ReducedLut::Kind::kInverter;
  else
    r.kind = ReducedLut::Kind::kLut;
  return r;
}

}  // namespace lutnet::hdl
