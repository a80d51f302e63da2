// Version 2 of the model file: lut_conv2d and max_pool layers in the reader, the writer, the
// validator and the reference evaluator. The worked conv example of docs/model-format.md is
// computed by hand here; defects of conv files give one-line errors naming the layer and field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "core/model_io.hpp"
#include "core/random_model.hpp"
#include "core/reference_evaluator.hpp"
#include "core_test_util.hpp"

namespace lutnet {
namespace {

using nlohmann::json;
using test::error_message;
using ::testing::AllOf;
using ::testing::HasSubstr;

// 3x3 images of the worked example, as 0/255 pixels.
std::vector<uint8_t> image(std::initializer_list<int> bits) {
  std::vector<uint8_t> out;
  for (int b : bits) out.push_back(b ? 255 : 0);
  return out;
}

TEST(ModelConv, WorkedExampleByHand) {
  const Model model = test::worked_conv_example_model();
  validate(model);
  const auto shapes = infer_shapes(model);
  ASSERT_EQ(shapes.size(), 4u);
  EXPECT_EQ(shapes[1], (ActivationShape{2, 2, 2, 2, 1}));  // conv: 2 levels, 2 channels, 2x2
  EXPECT_EQ(shapes[2], (ActivationShape{2, 2, 1, 1, 1}));  // pool: 1x1
  EXPECT_EQ(shapes[3].channels, 2);

  // A checkerboard: every window holds (1,0,0,1) or (0,1,1,0). Channel 0 counts 1 everywhere
  // (code 10), channel 1's XOR is 1 everywhere (code 01).
  std::vector<LayerTrace> trace;
  Prediction p = evaluate_reference(model, image({1, 0, 1, 0, 1, 0, 1, 0, 1}).data(), &trace);
  ASSERT_EQ(trace.size(), 3u);
  EXPECT_EQ(trace[0].accumulators, (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1}));
  // Level 0 plane (channel 0's four pixels, then channel 1's), then level 1.
  EXPECT_EQ(trace[0].output_bits,
            (std::vector<uint8_t>{1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1}));
  EXPECT_EQ(trace[1].output_bits, (std::vector<uint8_t>{1, 0, 0, 1}));
  EXPECT_EQ(p.scores, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(p.label, 0);

  // Only the top-left pixel set: channel 1 sees code 01 at pixel (0,0) and 10 elsewhere. The
  // lexicographic maximum is 10 (score 2); a per-level OR would give 11 (score 3).
  trace.clear();
  p = evaluate_reference(model, image({1, 0, 0, 0, 0, 0, 0, 0, 0}).data(), &trace);
  EXPECT_EQ(trace[0].accumulators, (std::vector<int64_t>{0, 0, 0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(trace[0].output_bits,
            (std::vector<uint8_t>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(trace[1].output_bits, (std::vector<uint8_t>{0, 1, 1, 0}));
  EXPECT_EQ(p.scores, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(p.label, 1);
}

TEST(ModelConv, MaxCodeIsLexicographic) {
  std::vector<uint8_t> best = {0, 1};
  const std::vector<uint8_t> higher = {1, 0}, lower = {0, 0};
  max_code(best.data(), lower.data(), 2);
  EXPECT_EQ(best, (std::vector<uint8_t>{0, 1}));
  max_code(best.data(), higher.data(), 2);
  EXPECT_EQ(best, (std::vector<uint8_t>{1, 0}));
}

TEST(ModelConv, ConvModelsAreVersion2AndDenseModelsStayVersion1) {
  const Model conv = test::worked_conv_example_model();
  const std::string text = model_to_json(conv);
  EXPECT_THAT(text, HasSubstr("\"version\": 2,"));
  test::expect_models_equal(model_from_json(text, "conv.json"), conv);
  EXPECT_EQ(model_to_json(model_from_json(text, "conv.json")), text);
  EXPECT_THAT(model_to_json(test::worked_example_model()), HasSubstr("\"version\": 1,"));
  // A dense model written as version 2 reads the same.
  json j = json::parse(model_to_json(test::worked_example_model()));
  j["version"] = 2;
  test::expect_models_equal(model_from_json(j.dump(), "v2.json"), test::worked_example_model());
}

TEST(ModelConv, RandomConvModelsRoundTrip) {
  RandomModelSpec spec;
  spec.input_shape = {3, 10, 9};
  spec.input_bits_per_pixel = 2;
  spec.convs = {{4, 3, 3, 2, 2, 1}, {5, 2, 2, 1, 0, 1}};
  spec.hidden = {6};
  const Model model = make_random_model(spec);
  const std::string text = model_to_json(model);
  const Model back = model_from_json(text, "random.json");
  test::expect_models_equal(back, model);
  const auto pixels = make_random_pixels(model, 20, 3);
  for (int i = 0; i < 20; ++i) {
    const uint8_t* px = pixels.data() + static_cast<size_t>(i) * model.input.num_pixels();
    EXPECT_EQ(evaluate_reference(back, px).scores, evaluate_reference(model, px).scores);
  }
}

TEST(ModelConv, ProbeModelShowsEveryBitOfALayer) {
  const Model model = test::worked_conv_example_model();
  const Model probe = make_probe_model(model, 1);  // after the conv layer
  const auto px = image({1, 0, 0, 0, 0, 0, 0, 0, 0});
  std::vector<LayerTrace> trace;
  evaluate_reference(model, px.data(), &trace);
  const Prediction p = evaluate_reference(probe, px.data());
  ASSERT_EQ(p.scores.size(), 8u);
  for (size_t i = 0; i < 8; ++i)
    EXPECT_EQ(p.scores[i], 2 * trace[0].output_bits[i] + trace[0].output_bits[8 + i]) << i;
  EXPECT_THROW(make_probe_model(model, 3), Error);
}

// Defects of a conv file: each breaks one thing in the worked conv example.
struct ConvFileDefect {
  const char* name;
  std::function<void(json&)> apply;
  const char* what;
};

void PrintTo(const ConvFileDefect& defect, std::ostream* out) { *out << defect.name; }

class ConvFileDefects : public ::testing::TestWithParam<ConvFileDefect> {};

TEST_P(ConvFileDefects, RejectsWithFileLayerAndFieldInMessage) {
  json j = json::parse(model_to_json(test::worked_conv_example_model()));
  GetParam().apply(j);
  EXPECT_THAT(error_message([&] { model_from_json(j.dump(), "conv.json"); }),
              AllOf(HasSubstr("conv.json: "), HasSubstr(GetParam().what)));
}

const ConvFileDefect kConvFileDefects[] = {
    {"conv_in_version_1", [](json& j) { j["version"] = 1; },
     "layer 0: unknown layer type 'lut_conv2d' (version 1 reads 'lut_dense')"},
    {"window_does_not_match_input_channels", [](json& j) { j["layers"][0]["in_channels"] = 2; },
     "layer 0 (lut_conv2d): the window has 4 positions (1 input channels x 2x2) but num_inputs = "
     "8"},
    {"kernel_larger_than_input",
     [](json& j) {
       j["layers"][0]["kernel"] = {4, 2};
     },
     "layer 0 (lut_conv2d): lut_conv2d window 4x2 is larger than its 3x3 input"},
    {"pool_does_not_fit",
     [](json& j) {
       j["layers"][1]["window"] = {3, 3};
     },
     "layer 1 (max_pool): max_pool window 3x3 is larger than its 2x2 input"},
    {"kernel_not_a_pair", [](json& j) { j["layers"][0]["kernel"] = {2}; },
     "layer 0: 'kernel' must be [height, width]"},
    {"stride_zero", [](json& j) { j["layers"][1]["stride"] = 0; },
     "layer 1: 'stride' = 0 is out of range 1..64"},
    {"stride_missing", [](json& j) { j["layers"][0].erase("stride"); },
     "layer 0: missing field 'stride'"},
    {"out_channels_zero", [](json& j) { j["layers"][0]["out_channels"] = 0; },
     "layer 0: 'out_channels' = 0 is out of range"},
    {"broken_chain_inputs", [](json& j) { j["layers"][2]["num_inputs"] = 3; },
     "layer 2: num_inputs = 3 but the previous stage produces 2"},
    {"broken_chain_levels", [](json& j) { j["layers"][2]["input_levels"] = 1; },
     "layer 2: input_levels = 1 but the previous stage produces 2"},
    {"conv_input_levels", [](json& j) { j["layers"][0]["input_levels"] = 2; },
     "layer 0: input_levels = 2 but the previous stage produces 1"},
    {"pool_last", [](json& j) { j["layers"].erase(2); },
     "layer 1 (max_pool): the last layer must be a lut_dense layer with output 'argmax'"},
    {"conv_argmax",
     [](json& j) {
       j["layers"][0]["output"] = "argmax";
       j["layers"][0].erase("output_levels");
     },
     "layer 0 (lut_conv2d): only the last layer may have output 'argmax'"},
    {"conv_lut_input_outside_window", [](json& j) { j["layers"][0]["lut_inputs"][2] = 4; },
     "layer 0: lut_inputs[2] = 4 >= num_inputs 4"},
    {"unknown_type_v2", [](json& j) { j["layers"][1]["type"] = "avg_pool"; },
     "layer 1: unknown layer type 'avg_pool' (version 2 reads 'lut_dense', 'lut_conv2d' and "
     "'max_pool')"},
};

INSTANTIATE_TEST_SUITE_P(Defects, ConvFileDefects, ::testing::ValuesIn(kConvFileDefects),
                         [](const auto& test_info) { return std::string(test_info.param.name); });

}  // namespace
}  // namespace lutnet
