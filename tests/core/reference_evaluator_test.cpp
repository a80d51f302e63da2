// The reference evaluator on tiny hand-built models whose outputs are worked out by hand here.
#include "core/reference_evaluator.hpp"

#include <gtest/gtest.h>

#include "core_test_util.hpp"

namespace lutnet {
namespace {

using test::k1_layer;

// k = 1 XNOR connections: table 0b10 passes the bit (weight +1), 0b01 inverts it (weight -1).
TEST(ReferenceEvaluator, XnorConnectionsAreK1Tables) {
  Model model;
  model.input.shape = {3};
  model.input.thresholds = {128};
  model.num_classes = 2;
  Layer layer = k1_layer(3, 1, {{0, 1, 2}, {1}});
  layer.output = LayerOutput::kArgmax;
  layer.output_levels = 0;
  layer.level_weights = {1};
  layer.tables = {0b10, 0b01, 0b10, 0b10};  // output 0: +x0 -x1 +x2; output 1: +x1
  model.layers = {layer};
  validate(model);

  const uint8_t a[] = {200, 0, 200};  // bits 1 0 1: output 0 agrees on all three
  Prediction p = evaluate_reference(model, a);
  EXPECT_EQ(p.scores, (std::vector<int64_t>{3, 0}));
  EXPECT_EQ(p.label, 0);

  const uint8_t b[] = {0, 255, 0};  // bits 0 1 0: output 0 agrees on none
  p = evaluate_reference(model, b);
  EXPECT_EQ(p.scores, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(p.label, 1);

  const uint8_t c[] = {127, 128, 255};  // the threshold is inclusive: bits 0 1 1
  EXPECT_EQ(evaluate_reference(model, c).scores, (std::vector<int64_t>{1, 1}));
}

// in[0] is the least significant address bit, and every level has its own table.
TEST(ReferenceEvaluator, LutAddressBitOrderAndTwoLevelWeights) {
  Layer layer;
  layer.num_inputs = 2;
  layer.input_levels = 2;
  layer.num_outputs = 1;
  layer.k = 2;
  layer.output = LayerOutput::kArgmax;
  layer.output_levels = 0;
  layer.level_weights = {2, 1};
  layer.conn_offset = {0, 2};
  layer.lut_inputs = {0, 1, 1, 0};  // connection 0 reads (x0, x1), connection 1 reads (x1, x0)
  // tables[c * input_levels + l]:
  //   c0 l0: plane 0 = (x0=1, x1=0) -> address 1; 0x2 has bit 1 set      -> 1
  //   c0 l1: plane 1 = (x0=0, x1=1) -> address 2; 0x4 has bit 2 set      -> 1
  //   c1 l0: in[0]=x1=0, in[1]=x0=1 -> address 2; 0xb = 1011b, bit 2 = 0 -> 0
  //   c1 l1: in[0]=x1=1, in[1]=x0=0 -> address 1; 0x2 has bit 1 set      -> 1
  layer.tables = {0x2, 0x4, 0xb, 0x2};
  const uint8_t bits[] = {1, 0, /* plane 1 */ 0, 1};
  // pc0 = 1, pc1 = 2, acc = 2 * 1 + 1 * 2.
  EXPECT_EQ(evaluate_lut_array(layer, bits).accumulators, (std::vector<int64_t>{4}));
  EXPECT_TRUE(evaluate_lut_array(layer, bits).output_bits.empty());

  // Swapping the address order would read address 2 for c0 l0: 0x2 has bit 2 clear.
  layer.tables = {0x4, 0x4, 0xb, 0x2};
  EXPECT_EQ(evaluate_lut_array(layer, bits).accumulators, (std::vector<int64_t>{2}));
}

// Two output levels through the threshold tree, for both output signs, at every accumulator.
TEST(ReferenceEvaluator, ResidualSignThresholdTreeWithNegativeSign) {
  Layer layer = k1_layer(4, 1, {{0, 1, 2, 3}, {0, 1, 2, 3}});
  layer.output = LayerOutput::kResidualSign;
  layer.output_levels = 2;
  layer.level_weights = {1};
  layer.tables.assign(8, 0b10);  // acc = number of ones
  layer.output_sign = {1, -1};
  // Output 0: bit0 = acc >= 2; then bit1 = acc >= 1 (bit0 = 0) or acc >= 3 (bit0 = 1).
  // Output 1: bit0 = -acc >= -2; then bit1 = -acc >= -5 (bit0 = 0) or -acc >= -1 (bit0 = 1).
  layer.thresholds = {2, 1, 3, -2, -5, -1};
  const int expected[5][2][2] = {
      // acc: {output 0 bits (b0, b1)}, {output 1 bits (b0, b1)}
      {{0, 0}, {1, 1}},  // 0
      {{0, 1}, {1, 1}},  // 1
      {{1, 0}, {1, 0}},  // 2
      {{1, 1}, {0, 1}},  // 3
      {{1, 1}, {0, 1}},  // 4
  };
  for (int acc = 0; acc <= 4; ++acc) {
    SCOPED_TRACE("acc = " + std::to_string(acc));
    uint8_t bits[4] = {};
    for (int i = 0; i < acc; ++i) bits[i] = 1;
    const LayerTrace trace = evaluate_lut_array(layer, bits);
    EXPECT_EQ(trace.accumulators, (std::vector<int64_t>{acc, acc}));
    // Plane-major: all outputs' bit 0, then all outputs' bit 1.
    const std::vector<uint8_t> planes = {
        static_cast<uint8_t>(expected[acc][0][0]), static_cast<uint8_t>(expected[acc][1][0]),
        static_cast<uint8_t>(expected[acc][0][1]), static_cast<uint8_t>(expected[acc][1][1])};
    EXPECT_EQ(trace.output_bits, planes);
  }
}

TEST(ReferenceEvaluator, ThresholdTreeIndexForThreeLevels) {
  // Bit b reads t[(2^b - 1) + prefix], the prefix holding bit0 as its most significant bit.
  std::vector<int64_t> t(7, 100);
  t[5] = 0;  // bit 2 after bit0 = 1, bit1 = 0
  EXPECT_TRUE(residual_sign_bit(t.data(), 1, 0, 2, 0b10));
  EXPECT_FALSE(residual_sign_bit(t.data(), 1, 0, 2, 0b01));
  EXPECT_FALSE(residual_sign_bit(t.data(), 1, 0, 1, 0b1));  // t[2]
  t[2] = -3;
  EXPECT_TRUE(residual_sign_bit(t.data(), -1, 3, 1, 0b1));  // -3 >= -3
  EXPECT_FALSE(residual_sign_bit(t.data(), -1, 4, 1, 0b1));
}

TEST(ReferenceEvaluator, ArgmaxTiesGoToTheFirstIndex) {
  EXPECT_EQ(argmax({3, 5, 5, 1}), 1);
  EXPECT_EQ(argmax({7, 7}), 0);
  EXPECT_EQ(argmax({-4, -2, -2}), 1);
  EXPECT_EQ(argmax({0}), 0);
}

// The worked example of docs/model-format.md, layer by layer.
TEST(ReferenceEvaluator, TwoLayerModelWithTwoLevelActivations) {
  const Model model = test::worked_example_model();
  validate(model);
  struct Case {
    std::vector<uint8_t> pixels;
    std::vector<int64_t> hidden_acc;
    std::vector<uint8_t> hidden_bits;  // plane-major
    std::vector<int64_t> scores;
    int label;
  };
  const Case cases[] = {
      {{0, 255, 0, 0}, {1, 1}, {0, 1, 1, 0}, {1, 3}, 1},
      {{255, 255, 255, 0}, {3, 0}, {1, 1, 1, 1}, {3, 2}, 0},
      {{0, 0, 0, 255}, {1, 2}, {0, 0, 1, 1}, {1, 0}, 0},
      {{0, 0, 0, 0}, {0, 2}, {0, 0, 0, 1}, {0, 0}, 0},  // a tie: the first class wins
  };
  for (const Case& c : cases) {
    std::vector<LayerTrace> trace;
    const Prediction p = evaluate_reference(model, c.pixels.data(), &trace);
    ASSERT_EQ(trace.size(), 2u);
    EXPECT_EQ(trace[0].accumulators, c.hidden_acc);
    EXPECT_EQ(trace[0].output_bits, c.hidden_bits);
    EXPECT_EQ(trace[1].accumulators, c.scores);
    EXPECT_EQ(p.scores, c.scores);
    EXPECT_EQ(p.label, c.label);
  }
}

}  // namespace
}  // namespace lutnet
