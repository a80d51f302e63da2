#pragma once
// Tiled LUT layers (model.hpp, Tiling): checks and the lowering to an equivalent untied layer,
// the one definition of what a tiled layer computes.
#include <cstdint>
#include <string>

#include "core/model.hpp"

namespace lutnet {

// The table over a LUT's k - n activation inputs when its n weight-bit inputs (the high address
// bits) hold `weight`: entries weight * 2^(k-n) .. (weight + 1) * 2^(k-n) - 1 of `table`.
inline uint64_t table_for_weight(uint64_t table, int k, int n, unsigned weight) {
  const unsigned width = 1u << (k - n);
  return (table >> (width * weight)) & lut_table_mask(k - n);
}

// Fills layer.k, conn_offset, lut_inputs and tables from layer.tiling (and num_inputs,
// num_outputs, input_levels): output o's connections are its tile's kept positions, input tiles
// in order, then positions within the tile. Throws lutnet::Error (prefixed by `where`) when the
// tiling is inconsistent.
void lower_tiling(Layer& layer, const std::string& where);

// Checks the tiling (tile sizes divide the layer, k and n in range, field sizes, extra inputs
// within the tile, no table or weight bits on pruned positions) and that the layer's LUT fields
// are its lowering.
void validate_tiling(const Layer& layer, const std::string& where);

}  // namespace lutnet
