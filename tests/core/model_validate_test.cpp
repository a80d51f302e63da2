// validate() and the model reader reject every kind of inconsistency with a message that names the
// layer and the field. Each case breaks one thing in an otherwise valid model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "core/model_io.hpp"
#include "core_test_util.hpp"

namespace lutnet {
namespace {

using nlohmann::json;
using test::error_message;
using ::testing::AllOf;
using ::testing::HasSubstr;

struct ModelDefect {
  const char* name;
  std::function<void(Model&)> apply;
  const char* where;                // "layer 1", "input" or "model"
  const char* what;                 // part of the message naming the field
  bool writer_keeps_defect = true;  // false where model_to_json cannot express the defect
};

// Keeps test names readable (and stable: the default prints the struct's bytes).
void PrintTo(const ModelDefect& defect, std::ostream* out) { *out << defect.name; }

class ModelValidate : public ::testing::TestWithParam<ModelDefect> {};

TEST_P(ModelValidate, RejectsWithFieldInMessage) {
  Model model = test::worked_example_model();
  validate(model);  // the starting point is valid
  GetParam().apply(model);
  const std::string message = error_message([&] { validate(model); });
  EXPECT_THAT(message, AllOf(HasSubstr(GetParam().where), HasSubstr(GetParam().what)));
  // The same defect read from a file is rejected too, and the message names the file.
  if (GetParam().writer_keeps_defect) {
    const std::string text = model_to_json(model);
    EXPECT_THAT(error_message([&] { model_from_json(text, "defect.json"); }),
                HasSubstr("defect.json: "));
  }
}

const ModelDefect kModelDefects[] = {
    {"k_zero", [](Model& m) { m.layers[0].k = 0; }, "layer 0", "k = 0 is out of range 1..6"},
    {"k_seven", [](Model& m) { m.layers[1].k = 7; }, "layer 1", "k = 7 is out of range 1..6"},
    {"lut_input_too_big", [](Model& m) { m.layers[0].lut_inputs[3] = 4; }, "layer 0",
     "lut_inputs[3] = 4 >= num_inputs 4"},
    {"lut_inputs_count", [](Model& m) { m.layers[0].lut_inputs.pop_back(); }, "layer 0",
     "lut_inputs has 5 entries, expected 6 connections x k = 6"},
    {"table_bits_above_2k", [](Model& m) { m.layers[0].tables[2] = 0b100; }, "layer 0",
     "tables[2] has bits above 2^k"},
    {"tables_count", [](Model& m) { m.layers[1].tables.push_back(1); }, "layer 1",
     "tables has 5 entries, expected 4"},
    {"conn_offset_decreasing",
     [](Model& m) {
       m.layers[0].conn_offset = {0, 4, 3};
     },
     "layer 0", "conn_offset decreases at output 1"},
    {"conn_offset_length",
     [](Model& m) {
       m.layers[0].conn_offset = {0, 6};
     },
     "layer 0", "conn_offset has 2 entries, expected 3"},
    {"conn_offset_start",
     [](Model& m) {
       m.layers[1].conn_offset = {1, 1, 2};
     },
     "layer 1", "conn_offset must start at 0"},
    {"thresholds_count", [](Model& m) { m.layers[0].thresholds.pop_back(); }, "layer 0",
     "thresholds has 5 entries, expected 6"},
    {"thresholds_on_argmax", [](Model& m) { m.layers[1].thresholds = {1}; }, "layer 1",
     "an argmax layer has no thresholds", false},
    {"output_sign_zero", [](Model& m) { m.layers[0].output_sign[1] = 0; }, "layer 0",
     "output_sign entries must be +1 or -1"},
    {"output_sign_count", [](Model& m) { m.layers[0].output_sign.pop_back(); }, "layer 0",
     "output_sign must have one entry per output"},
    {"input_levels_chain", [](Model& m) { m.layers[1].input_levels = 1; }, "layer 1",
     "input_levels = 1 but the previous stage produces 2"},
    {"first_layer_levels", [](Model& m) { m.layers[0].input_levels = 2; }, "layer 0",
     "input_levels = 2 but the previous stage produces 1"},
    {"num_inputs_chain", [](Model& m) { m.layers[1].num_inputs = 3; }, "layer 1",
     "num_inputs = 3 but the previous stage produces 2"},
    {"num_inputs_vs_encoding",
     [](Model& m) {
       m.input.thresholds = {100, 200};
     },
     "layer 0", "num_inputs = 4 but the previous stage produces 8"},
    {"last_layer_not_argmax",
     [](Model& m) {
       m.layers[1].output = LayerOutput::kResidualSign;
       m.layers[1].output_levels = 1;
     },
     "layer 1", "the last layer must have output 'argmax'"},
    {"hidden_argmax",
     [](Model& m) {
       m.layers[0].output = LayerOutput::kArgmax;
       m.layers[0].output_levels = 0;
     },
     "layer 0", "only the last layer may have output 'argmax'"},
    {"output_levels_range", [](Model& m) { m.layers[0].output_levels = 5; }, "layer 0",
     "output_levels = 5 is out of range 1..4"},
    {"level_weights_count", [](Model& m) { m.layers[1].level_weights = {1}; }, "layer 1",
     "level_weights has 1 entries, expected 2"},
    {"level_weight_zero", [](Model& m) { m.layers[1].level_weights[1] = 0; }, "layer 1",
     "level weight 0 out of range"},
    {"num_outputs_zero",
     [](Model& m) {
       m.layers[1].num_outputs = 0;
       m.num_classes = 0;
     },
     "layer 1", "num_outputs = 0 is out of range"},
    {"num_classes", [](Model& m) { m.num_classes = 3; }, "model",
     "num_classes = 3 but the last layer has 2 outputs"},
    {"no_layers", [](Model& m) { m.layers.clear(); }, "model", "has no layers"},
    {"empty_shape", [](Model& m) { m.input.shape.clear(); }, "input", "shape is empty"},
    {"shape_zero",
     [](Model& m) {
       m.input.shape = {1, 0, 4};
     },
     "input", "shape entry"},
    {"too_many_pixels",
     [](Model& m) {
       m.input.shape = {65536, 65536, 65536, 65536};
     },
     "input", "too many pixels"},
    {"pixel_count_wraps_int",
     [](Model& m) {
       m.input.shape = {65536, 65536};
     },
     "input", "too many pixels"},
    {"thresholds_not_ascending",
     [](Model& m) {
       m.input.thresholds = {200, 100};
     },
     "input", "strictly ascending"},
    {"no_thresholds", [](Model& m) { m.input.thresholds.clear(); }, "input", "1..8 thresholds"},
    {"nine_thresholds", [](Model& m) { m.input.thresholds = {1, 2, 3, 4, 5, 6, 7, 8, 9}; }, "input",
     "1..8 thresholds"},
};

INSTANTIATE_TEST_SUITE_P(Defects, ModelValidate, ::testing::ValuesIn(kModelDefects),
                         [](const auto& test_info) { return std::string(test_info.param.name); });

// Defects that only a file can have: syntax, types, unknown names, hex spelling, versions.
struct FileDefect {
  const char* name;
  std::function<void(json&)> apply;
  const char* what;
};

void PrintTo(const FileDefect& defect, std::ostream* out) { *out << defect.name; }

class ModelFileDefect : public ::testing::TestWithParam<FileDefect> {};

TEST_P(ModelFileDefect, RejectsWithFileAndFieldInMessage) {
  json j = json::parse(model_to_json(test::worked_example_model()));
  GetParam().apply(j);
  EXPECT_THAT(error_message([&] { model_from_json(j.dump(), "broken.json"); }),
              AllOf(HasSubstr("broken.json: "), HasSubstr(GetParam().what)));
}

const FileDefect kFileDefects[] = {
    {"version_4", [](json& j) { j["version"] = 4; },
     "model format version 4 is not supported (this build reads versions 1 to 3)"},
    {"version_0", [](json& j) { j["version"] = 0; }, "model format version 0 is not supported"},
    {"version_string", [](json& j) { j["version"] = "1"; }, "'version' must be an integer"},
    {"version_missing", [](json& j) { j.erase("version"); }, "missing field 'version'"},
    {"format_missing", [](json& j) { j.erase("format"); }, "not a lutnet model file"},
    {"format_wrong", [](json& j) { j["format"] = "onnx"; }, "not a lutnet model file"},
    {"k_zero", [](json& j) { j["layers"][0]["k"] = 0; }, "layer 0: 'k' = 0 is out of range 1..6"},
    {"k_seven", [](json& j) { j["layers"][1]["k"] = 7; }, "layer 1: 'k' = 7 is out of range 1..6"},
    {"k_float", [](json& j) { j["layers"][0]["k"] = 1.0; }, "layer 0: 'k' must be an integer"},
    {"unknown_type", [](json& j) { j["layers"][1]["type"] = "lut_conv2d"; },
     "layer 1: unknown layer type 'lut_conv2d' (version 1 reads 'lut_dense')"},
    {"type_with_newline", [](json& j) { j["layers"][0]["type"] = "lut\nconv"; },
     "layer 0: unknown layer type 'lut\\x0aconv'"},
    {"type_very_long", [](json& j) { j["layers"][0]["type"] = std::string(5000, 'x'); },
     "layer 0: unknown layer type 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' (version 1"},
    {"type_missing", [](json& j) { j["layers"][0].erase("type"); },
     "layer 0: missing field 'type'"},
    {"unknown_output", [](json& j) { j["layers"][1]["output"] = "softmax"; },
     "layer 1: unknown output 'softmax'"},
    {"tables_missing", [](json& j) { j["layers"][0].erase("tables"); },
     "layer 0: missing field 'tables'"},
    {"table_too_many_digits", [](json& j) { j["layers"][0]["tables"][1] = "02"; },
     "layer 0: tables[1] = \"02\" must have 1 hex digits for k = 1"},
    {"table_width_follows_k", [](json& j) { j["layers"][0]["k"] = 3; },
     "layer 0: tables[0] = \"2\" must have 2 hex digits for k = 3"},
    {"table_not_hex", [](json& j) { j["layers"][0]["tables"][0] = "g"; },
     "layer 0: tables[0] = \"g\" is not lower-case hex"},
    {"table_capital", [](json& j) { j["layers"][0]["tables"][0] = "A"; },
     "layer 0: tables[0] = \"A\" is not lower-case hex"},
    {"table_number", [](json& j) { j["layers"][0]["tables"][0] = 2; },
     "layer 0: tables[0] must be a string"},
    {"table_bits_above_2k", [](json& j) { j["layers"][0]["tables"][0] = "4"; },
     "layer 0: tables[0] has bits above 2^k"},
    {"lut_input_negative", [](json& j) { j["layers"][0]["lut_inputs"][2] = -1; },
     "layer 0: 'lut_inputs'[2] = -1 is out of range"},
    {"lut_input_too_big", [](json& j) { j["layers"][0]["lut_inputs"][2] = 4; },
     "layer 0: lut_inputs[2] = 4 >= num_inputs 4"},
    {"conn_offset_decreasing",
     [](json& j) {
       j["layers"][0]["conn_offset"] = {0, 4, 3};
     },
     "layer 0: conn_offset decreases at output 1"},
    {"thresholds_huge", [](json& j) { j["layers"][0]["thresholds"][0] = int64_t{1} << 60; },
     "layer 0: 'thresholds'[0] = 1152921504606846976 is out of range"},
    {"output_sign_two", [](json& j) { j["layers"][0]["output_sign"][0] = 2; },
     "layer 0: 'output_sign'[0] = 2 is out of range -1..1"},
    {"input_levels_chain", [](json& j) { j["layers"][1]["input_levels"] = 1; },
     "layer 1: input_levels = 1 but the previous stage produces 2"},
    {"last_layer_not_argmax",
     [](json& j) {
       j["layers"][1]["output"] = "residual_sign";
       j["layers"][1]["output_levels"] = 1;
       j["layers"][1]["output_sign"] = {1, 1};
       j["layers"][1]["thresholds"] = {0, 0};
     },
     "layer 1: the last layer must have output 'argmax'"},
    {"layers_not_array", [](json& j) { j["layers"] = json::object(); },
     "'layers' must be an array"},
    {"layer_not_object", [](json& j) { j["layers"][0] = 5; }, "layer 0: expected an object"},
    {"shape_huge_value", [](json& j) { j["input"]["shape"][0] = UINT64_MAX; },
     "input: 'shape'[0] = 9223372036854775807 is out of range 1..65536"},
    {"top_level_array",
     [](json& j) {
       j = json::array({1, 2});
     },
     "expected a JSON object"},
};

INSTANTIATE_TEST_SUITE_P(Defects, ModelFileDefect, ::testing::ValuesIn(kFileDefects),
                         [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(ModelFile, TruncatedFileIsAJsonError) {
  const std::string text = model_to_json(test::worked_example_model());
  for (size_t length : {size_t{0}, size_t{1}, size_t{40}, text.size() / 2, text.size() - 3}) {
    EXPECT_THAT(error_message([&] { model_from_json(text.substr(0, length), "cut.json"); }),
                AllOf(HasSubstr("cut.json: "), HasSubstr("JSON error at byte")))
        << "length " << length;
  }
}

TEST(ModelFile, NumberTooLargeForJsonIsAnError) {
  std::string text = model_to_json(test::worked_example_model());
  text.replace(text.find("\"num_classes\": 2"), 16, "\"num_classes\": 1e999");
  EXPECT_THAT(error_message([&] { model_from_json(text, "big.json"); }),
              AllOf(HasSubstr("big.json: "), HasSubstr("JSON")));
}

TEST(ModelFile, DeepNestingIsRejectedWithoutExhaustingTheStack) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_THAT(error_message([&] { model_from_json(deep, "deep.json"); }),
              HasSubstr("deep.json: top level: expected a JSON object"));
  const std::string in_metadata = R"({"format": "lutnet-model", "metadata": )" + deep + "}";
  EXPECT_THAT(error_message([&] { model_from_json(in_metadata, "deep.json"); }),
              HasSubstr("missing field 'version'"));
}

TEST(ModelFile, UnknownExtraFieldsAreIgnored) {
  json j = json::parse(model_to_json(test::worked_example_model()));
  j["trained_by"] = "someone";
  j["layers"][0]["comment"] = "ignored";
  EXPECT_NO_THROW(model_from_json(j.dump(), "extra.json"));
}

}  // namespace
}  // namespace lutnet
