#include "core/tiling.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace lutnet {

namespace {

void check(bool ok, const std::string& where, const std::string& what) {
  if (!ok) throw Error(where + ": " + what);
}

void check_tiling_fields(const Layer& layer, const std::string& where) {
  const Tiling& t = layer.tiling;
  check(layer.kind != LayerKind::kMaxPool, where, "a max_pool layer cannot be tiled");
  check(t.num_outputs == layer.num_outputs && t.num_inputs == layer.num_inputs, where,
        "tiling sizes do not match the layer");
  check(t.tm >= 1 && t.tn >= 1 && layer.num_outputs % t.tm == 0 && layer.num_inputs % t.tn == 0,
        where,
        fmt::format("tiles {}x{} do not divide {} outputs x {} inputs", t.tm, t.tn,
                    layer.num_outputs, layer.num_inputs));
  check(t.k >= 2 && t.k <= kMaxLutInputs, where,
        fmt::format("tiling k = {} is out of range 2..{}", t.k, kMaxLutInputs));
  check(t.n >= 1 && t.n < t.k && t.n <= 3, where,
        fmt::format("tiling n = {} is out of range 1..min(3, k - 1)", t.n));
  const size_t positions = size_t(t.tile_outputs()) * t.tile_inputs();
  const size_t extras = size_t(t.activation_inputs() - 1) * t.tile_inputs();
  check(t.mask.size() == positions, where,
        fmt::format("tiling mask has {} entries, expected {}", t.mask.size(), positions));
  check(t.extra_inputs.size() == extras, where,
        fmt::format("tiling extra_inputs has {} entries, expected {}", t.extra_inputs.size(),
                    extras));
  check(t.tables.size() == positions * layer.input_levels, where,
        fmt::format("tiling tables has {} entries, expected {}", t.tables.size(),
                    positions * layer.input_levels));
  check(t.weight_bits.size() == size_t(layer.num_outputs) * layer.num_inputs, where,
        fmt::format("tiling weight_bits has {} entries, expected {}", t.weight_bits.size(),
                    size_t(layer.num_outputs) * layer.num_inputs));
  // The per-entry checks format their message only on failure: these loops run over every
  // connection of the layer at each load.
  for (size_t i = 0; i < extras; ++i)
    if (t.extra_inputs[i] >= static_cast<uint32_t>(t.tile_inputs()))
      check(false, where,
            fmt::format("tiling extra_inputs[{}] = {} is outside the input tile of {}", i,
                        t.extra_inputs[i], t.tile_inputs()));
  const uint64_t table_mask = lut_table_mask(t.k);
  for (size_t p = 0; p < positions; ++p) {
    if (t.mask[p] > 1) check(false, where, fmt::format("tiling mask[{}] must be 0 or 1", p));
    for (int l = 0; l < layer.input_levels; ++l) {
      const size_t index = p * layer.input_levels + l;
      if (t.tables[index] & ~table_mask)
        check(false, where, fmt::format("tiling tables[{}] has bits above 2^k", index));
      if (!t.mask[p] && t.tables[index] != 0)
        check(false, where, fmt::format("tiling tables[{}] is not 0 at a pruned position", index));
    }
  }
  const int po_count = t.tile_outputs(), pi_count = t.tile_inputs();
  for (int o = 0; o < layer.num_outputs; ++o)
    for (int i = 0; i < layer.num_inputs; ++i) {
      const uint8_t w = t.weight_bits[size_t(o) * layer.num_inputs + i];
      if (w >= (1u << t.n))
        check(false, where,
              fmt::format("tiling weight_bits of output {} input {} = {} has more than n = {} bits",
                          o, i, w, t.n));
      if (w != 0 && !t.mask[size_t(o % po_count) * pi_count + i % pi_count])
        check(false, where,
              fmt::format("tiling weight_bits of output {} input {} is not 0 at a pruned position",
                          o, i));
    }
}

}  // namespace

void lower_tiling(Layer& layer, const std::string& where) {
  check_tiling_fields(layer, where);
  const Tiling& t = layer.tiling;
  const int po_count = t.tile_outputs(), pi_count = t.tile_inputs();
  const int extras = t.activation_inputs() - 1;
  layer.k = t.activation_inputs();
  layer.conn_offset.assign(1, 0);
  layer.lut_inputs.clear();
  layer.tables.clear();
  for (int o = 0; o < layer.num_outputs; ++o) {
    const int po = o % po_count;
    for (int ti = 0; ti < t.tn; ++ti)
      for (int pi = 0; pi < pi_count; ++pi) {
        const size_t position = size_t(po) * pi_count + pi;
        if (!t.mask[position]) continue;
        const int base = ti * pi_count;
        layer.lut_inputs.push_back(static_cast<uint32_t>(base + pi));
        for (int j = 0; j < extras; ++j)
          layer.lut_inputs.push_back(static_cast<uint32_t>(base) +
                                     t.extra_inputs[size_t(j) * pi_count + pi]);
        const unsigned weight = t.weight_bits[size_t(o) * layer.num_inputs + base + pi];
        for (int l = 0; l < layer.input_levels; ++l)
          layer.tables.push_back(
              table_for_weight(t.tables[position * layer.input_levels + l], t.k, t.n, weight));
      }
    layer.conn_offset.push_back(static_cast<uint32_t>(layer.lut_inputs.size() / layer.k));
  }
}

void validate_tiling(const Layer& layer, const std::string& where) {
  Layer lowered = layer;
  lower_tiling(lowered, where);
  check(lowered.k == layer.k && lowered.conn_offset == layer.conn_offset &&
            lowered.lut_inputs == layer.lut_inputs && lowered.tables == layer.tables,
        where, "the LUT fields are not the lowering of the layer's tiling");
}

}  // namespace lutnet
