// The pieces of code generation on their own: the two-input circuits of every LUT function, and
// adder heaps that outgrow the AVX2 registers (spilled to the stack, still bit-exact).
#include "engine/jit.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/random_model.hpp"
#include "engine/layer_plan.hpp"
#include "engine/lut_circuit.hpp"
#include "engine_test_util.hpp"

namespace lutnet::engine {
namespace {

using detail::circuit_table;
using detail::lut_circuit;

uint64_t mask_of(int n) { return n == 6 ? ~uint64_t{0} : (uint64_t{1} << (1 << n)) - 1; }

TEST(EngineJitTest, CircuitsComputeEveryFunctionOfUpToFourInputs) {
  for (bool complements : {false, true}) {
    for (int n = 1; n <= 4; ++n) {
      for (uint64_t f = 0; f <= mask_of(n); ++f) {
        const detail::LutCircuit c = lut_circuit(f, n, complements);
        ASSERT_EQ(circuit_table(c), f) << "n=" << n << " complements=" << complements;
        // Smallest formulas: a NOT costs an XOR only without complement planes.
        ASSERT_LE(c.gates.size(), complements ? 7u : 8u);
      }
    }
  }
  EXPECT_EQ(lut_circuit(0b10, 1, false).gates.size(), 0u);  // a wire
  EXPECT_EQ(lut_circuit(0b01, 1, true).gates.size(), 0u);   // a complement plane
  EXPECT_EQ(lut_circuit(0x6, 2, false).gates.size(), 1u);   // x0 ^ x1
  EXPECT_EQ(lut_circuit(0x96, 3, false).gates.size(), 2u);  // parity
}

TEST(EngineJitTest, CircuitsComputeRandomFunctionsOfFiveAndSixInputs) {
  std::mt19937_64 rng(3);
  for (bool complements : {false, true}) {
    for (int n = 5; n <= 6; ++n) {
      for (int trial = 0; trial < 500; ++trial) {
        const uint64_t f = rng() & mask_of(n);
        const detail::LutCircuit c = lut_circuit(f, n, complements);
        ASSERT_EQ(circuit_table(c), f) << "n=" << n;
        ASSERT_LE(c.gates.size(), n == 5 ? 18u : 34u);  // a split costs at most 3 gates
      }
    }
  }
}

// Level weights with many set bits push every LUT into many columns: more heap words than the
// 16 ymm registers hold, so the AVX2 code spills the highest columns to its stack frame.
TEST(EngineJitTest, AdderHeapSpillsAndStaysExact) {
  RandomModelSpec spec;
  spec.input_shape = {1, 8, 8};
  spec.hidden = {40, 30};
  spec.num_classes = 10;
  spec.k = 4;
  spec.keep_fraction = 0.3;
  spec.seed = 17;
  Model model = make_random_model(spec);
  model.layers[1].level_weights = {1023, 341};
  validate(model);
  const Layer& layer = model.layers[1];
  detail::LayerData data;
  PlanOps ops;
  size_t scratch = 0;
  detail::build_lut_array(layer, 512, detail::op_costs(Isa::kAvx2), data, ops, scratch);
  const detail::JitLayer jit = detail::jit_layer(
      Isa::kAvx2, layer, static_cast<int>(data.plan.acc_bits), 4096, data.plan.compare, false);
  if (!jit.fn) GTEST_SKIP() << "no executable memory";
  EXPECT_GT(jit.spill_slots, 0);
  for (Isa isa : available_isas()) {
    if (isa != Isa::kAvx2) continue;
    EXPECT_EQ(CompiledModel::compile(model, {isa, 1, true}).generated_layers(), 3);
    const auto pixels = make_random_pixels(model, 1100, 5);
    expect_same(run_reference(model, pixels, 1100), run_engine(model, pixels, 1100, {isa, true}),
                model.num_classes);
  }
}

}  // namespace
}  // namespace lutnet::engine
