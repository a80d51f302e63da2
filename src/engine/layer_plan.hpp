#pragma once
// Building the execution plan of one layer (plan.hpp) from the model: each LUT reduced
// (core/lut_function.hpp) and laid out as a mux-tree record, thresholds as unsigned compares, and
// the geometry of conv and pool layers. Called by CompiledModel::compile's passes (engine.cpp).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/model.hpp"
#include "engine/engine.hpp"
#include "engine/plan.hpp"

namespace lutnet::engine::detail {

// Planes of the kernel's counters and accumulators for a layer (run_layer_sized).
int plane_class(uint32_t acc_bits);

// Logic-op costs of one kernel operation per ISA (vpternlogq does each in one).
struct OpCosts {
  double mux, xor3, maj, and_, xor_, not_, ge;
};
OpCosts op_costs(Isa isa);

// A layer's plan and the arrays it points into.
struct LayerData {
  std::vector<uint32_t> window_base;  // conv
  std::vector<uint32_t> headers;
  std::vector<uint64_t> records;
  std::vector<uint32_t> level_weights;
  std::vector<uint64_t> compare;
  std::vector<uint8_t> invert;
  LayerPlan plan{};
};

// Builds the LUT array of a dense or conv layer (conv: over its window, for one pixel) for words
// of word_bits samples; adds its operations to ops and raises max_scratch to what it needs.
void build_lut_array(const Layer& layer, int word_bits, const OpCosts& cost, LayerData& out,
                     PlanOps& ops, size_t& max_scratch);

// The geometry of a conv or pool layer; for conv after build_lut_array, whose operations it
// multiplies by the output pixels.
void build_window(const Layer& layer, const ActivationShape& in, const ActivationShape& out,
                  LayerData& data, PlanOps& ops);

// Plane buffer words of an activation (plan.hpp): zeros, ones, then each level and complement.
size_t planes_of(const ActivationShape& shape);

// Output pixels a layer's LUT array runs for: 1 for a dense layer.
double pixels_of(const LayerPlan& p);

}  // namespace lutnet::engine::detail
