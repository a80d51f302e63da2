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
    const LutDenseLayer& x = a.layers[i];
    const LutDenseLayer& y = b.layers[i];
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
  }
}

// A hidden layer whose every connection is k = 1 with the given table per input level.
inline LutDenseLayer k1_layer(int num_inputs, int input_levels,
                              const std::vector<std::vector<uint32_t>>& inputs_per_output) {
  LutDenseLayer layer;
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
  LutDenseLayer hidden = k1_layer(4, 1, {{0, 1, 2, 3}, {0, 1}});
  hidden.output = LayerOutput::kResidualSign;
  hidden.output_levels = 2;
  hidden.level_weights = {1};
  hidden.tables = {0b10, 0b10, 0b10, 0b10, 0b01, 0b01};
  hidden.output_sign = {1, -1};
  hidden.thresholds = {2, 1, 3, -1, -2, 0};

  LutDenseLayer out = k1_layer(2, 2, {{0}, {1}});
  out.output = LayerOutput::kArgmax;
  out.output_levels = 0;
  out.level_weights = {2, 1};
  out.tables = {0b10, 0b10, 0b10, 0b01};  // per connection: level 0 table, then level 1 table

  model.layers = {hidden, out};
  model.metadata_json = "{}";
  return model;
}

}  // namespace lutnet::test
