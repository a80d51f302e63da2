// Input encoding: pixel p, threshold j -> bit p*T + j = (pixel >= thresholds[j]).
#include "core/input_encoding.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/reference_evaluator.hpp"
#include "core_test_util.hpp"

namespace lutnet {
namespace {

using test::error_message;
using ::testing::HasSubstr;

TEST(InputEncoding, ThresholdBinarizationIsInclusive) {
  InputEncoding encoding{{1, 1, 4}, {128}};
  EXPECT_EQ(encoding.num_pixels(), 4);
  EXPECT_EQ(encoding.num_bits(), 4);
  const uint8_t pixels[] = {0, 127, 128, 255};
  uint8_t bits[4];
  encode_input(encoding, pixels, bits);
  EXPECT_THAT(bits, ::testing::ElementsAre(0, 0, 1, 1));
}

TEST(InputEncoding, TwoBitThermometerBitOrderIsPixelMajor) {
  InputEncoding encoding{{5}, thermometer_thresholds(2)};
  EXPECT_EQ(encoding.thresholds, (std::vector<uint8_t>{85, 170}));
  EXPECT_EQ(encoding.num_bits(), 10);
  const uint8_t pixels[] = {0, 85, 169, 170, 255};
  uint8_t bits[10];
  encode_input(encoding, pixels, bits);
  EXPECT_THAT(bits, ::testing::ElementsAre(0, 0, 1, 0, 1, 0, 1, 1, 1, 1));
}

TEST(InputEncoding, DefaultThermometerThresholds) {
  EXPECT_EQ(thermometer_thresholds(1), (std::vector<uint8_t>{128}));
  EXPECT_EQ(thermometer_thresholds(3), (std::vector<uint8_t>{64, 128, 192}));
  EXPECT_EQ(thermometer_thresholds(8).size(), 8u);
  EXPECT_THAT(error_message([] { thermometer_thresholds(0); }), HasSubstr("out of range 1..8"));
  EXPECT_THAT(error_message([] { thermometer_thresholds(9); }), HasSubstr("= 9"));
}

// The whole model sees the same order: output i of a k = 1 layer reads input bit i.
TEST(InputEncoding, ModelReadsThermometerBitsInThatOrder) {
  Model model;
  model.input.shape = {1, 1, 2};
  model.input.thresholds = {85, 170};
  model.num_classes = 4;
  Layer layer = test::k1_layer(4, 1, {{0}, {1}, {2}, {3}});
  layer.output = LayerOutput::kArgmax;
  layer.output_levels = 0;
  layer.level_weights = {1};
  layer.tables.assign(4, 0b10);
  model.layers = {layer};
  validate(model);
  const uint8_t pixels[] = {100, 200};  // bits: p0 (1, 0), p1 (1, 1)
  EXPECT_EQ(evaluate_reference(model, pixels).scores, (std::vector<int64_t>{1, 0, 1, 1}));
}

}  // namespace
}  // namespace lutnet
