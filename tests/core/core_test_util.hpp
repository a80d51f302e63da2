#pragma once
// Helpers shared by the core tests: capturing a lutnet::Error's message, comparing models field by
// field, and small hand-built models whose outputs the tests compute by hand.
#include <gtest/gtest.h>

#include <string>

#include "core/error.hpp"
#include "core/model.hpp"

namespace lutnet::test {

// The message of the lutnet::Error that `action` throws; a test failure when it throws none. Any
// other exception escapes, which gtest reports as a failure too.
template <typename Action>
std::string error_message(Action&& action) {
  try {
    action();
  } catch (const lutnet::Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "error is not one line: " << message;
    return message;
  }
  ADD_FAILURE() << "expected a lutnet::Error";
  return "";
}

inline void expect_models_equal(const Model& a, const Model& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.input.shape, b.input.shape);
  EXPECT_EQ(a.input.thresholds, b.input.thresholds);
  EXPECT_EQ(a.num_classes, b.num_classes);
  EXPECT_EQ(a.metadata_json, b.metadata_json);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t i = 0; i < a.layers.size(); ++i) {
    SCOPED_TRACE("layer " + std::to_string(i));
    const Layer& x = a.layers[i];
    const Layer& y = b.layers[i];
    EXPECT_EQ(x.num_inputs, y.num_inputs);
    EXPECT_EQ(x.input_levels, y.input_levels);
    EXPECT_EQ(x.num_outputs, y.num_outputs);
    EXPECT_EQ(x.k, y.k);
    EXPECT_EQ(x.output, y.output);
    EXPECT_EQ(x.output_levels, y.output_levels);
    EXPECT_EQ(x.level_weights, y.level_weights);
    EXPECT_EQ(x.conn_offset, y.conn_offset);
    EXPECT_EQ(x.lut_inputs, y.lut_inputs);
    EXPECT_EQ(x.tables, y.tables);
    EXPECT_EQ(x.output_sign, y.output_sign);
    EXPECT_EQ(x.thresholds, y.thresholds);
    EXPECT_EQ(x.kind, y.kind);
    EXPECT_EQ(x.kernel_h, y.kernel_h);
    EXPECT_EQ(x.kernel_w, y.kernel_w);
    EXPECT_EQ(x.stride, y.stride);
    EXPECT_EQ(x.tiling, y.tiling);
  }
}

// A hidden layer whose every connection is k = 1 with the given table per input level.
inline Layer k1_layer(int num_inputs, int input_levels,
                      const std::vector<std::vector<uint32_t>>& inputs_per_output) {
  Layer layer;
  layer.num_inputs = num_inputs;
  layer.input_levels = input_levels;
  layer.num_outputs = static_cast<int>(inputs_per_output.size());
  layer.k = 1;
  layer.conn_offset = {0};
  for (const auto& inputs : inputs_per_output) {
    layer.lut_inputs.insert(layer.lut_inputs.end(), inputs.begin(), inputs.end());
    layer.conn_offset.push_back(static_cast<uint32_t>(layer.lut_inputs.size()));
  }
  return layer;
}

// The two-layer model of the worked example in docs/model-format.md (4 pixels, 2 hidden neurons
// with 2 output levels each, 2 classes). Its outputs are computed by hand in the tests.
inline Model worked_example_model() {
  Model model;
  model.name = "worked-example";
  model.input.shape = {1, 2, 2};
  model.input.thresholds = {128};
  model.num_classes = 2;

  // Hidden neuron 0 counts the ones among all four input bits (XNOR with weight +1: table 0b10);
  // neuron 1 counts the zeros among bits 0 and 1 (weight -1: table 0b01).
  Layer hidden = k1_layer(4, 1, {{0, 1, 2, 3}, {0, 1}});
  hidden.output = LayerOutput::kResidualSign;
  hidden.output_levels = 2;
  hidden.level_weights = {1};
  hidden.tables = {0b10, 0b10, 0b10, 0b10, 0b01, 0b01};
  hidden.output_sign = {1, -1};
  hidden.thresholds = {2, 1, 3, -1, -2, 0};

  Layer out = k1_layer(2, 2, {{0}, {1}});
  out.output = LayerOutput::kArgmax;
  out.output_levels = 0;
  out.level_weights = {2, 1};
  out.tables = {0b10, 0b10, 0b10, 0b01};  // per connection: level 0 table, then level 1 table

  model.layers = {hidden, out};
  model.metadata_json = "{}";
  return model;
}

// The conv model of the worked example in docs/model-format.md: a 3x3 binarized image, a 2x2
// lut_conv2d layer with 2 output channels of 2 levels, a 2x2 / 2 max_pool, a 2-class argmax
// layer. Its outputs are computed by hand in the tests (tests/core/model_conv_test.cpp).
inline Model worked_conv_example_model() {
  Model model;
  model.name = "worked-conv-example";
  model.input.shape = {1, 3, 3};
  model.input.thresholds = {128};
  model.num_classes = 2;

  // Window positions w = ky * 2 + kx. Channel 0: AND(w0, w3) plus a wire from w1 (a k = 2 table
  // that ignores its second input); channel 1: XOR(w0, w1) with a negative output sign.
  Layer conv;
  conv.kind = LayerKind::kLutConv2d;
  conv.kernel_h = conv.kernel_w = 2;
  conv.stride = 1;
  conv.num_inputs = 4;
  conv.input_levels = 1;
  conv.num_outputs = 2;
  conv.k = 2;
  conv.output = LayerOutput::kResidualSign;
  conv.output_levels = 2;
  conv.level_weights = {1};
  conv.conn_offset = {0, 2, 3};
  conv.lut_inputs = {0, 3, 1, 1, 0, 1};
  conv.tables = {0b1000, 0b1010, 0b0110};
  conv.output_sign = {1, -1};
  // Channel 0: acc 0 -> code 01, 1 -> 10, 2 -> 11. Channel 1 (-acc): acc 0 -> 10, acc 1 -> 01.
  conv.thresholds = {1, 0, 2, 0, -1, 1};

  Layer pool;
  pool.kind = LayerKind::kMaxPool;
  pool.kernel_h = pool.kernel_w = 2;
  pool.stride = 2;

  // Class c reads channel c's pooled code as 2 * bit0 + bit1.
  Layer out = k1_layer(2, 2, {{0}, {1}});
  out.output = LayerOutput::kArgmax;
  out.output_levels = 0;
  out.level_weights = {2, 1};
  out.tables = {0b10, 0b10, 0b10, 0b10};

  model.layers = {conv, pool, out};
  return model;
}

}  // namespace lutnet::test
