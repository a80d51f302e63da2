// Model files: save/load round trips, deterministic bytes, and reader errors that name the file.
#include "core/model_io.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/random_model.hpp"
#include "core/reference_evaluator.hpp"
#include "core_test_util.hpp"

namespace lutnet {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::error_message;
using test::expect_models_equal;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::vector<RandomModelSpec> varied_specs() {
  std::vector<RandomModelSpec> specs;
  for (int k = 1; k <= kMaxLutInputs; ++k) {
    RandomModelSpec spec;
    spec.k = k;
    spec.levels = 1 + k % 3;
    spec.input_bits_per_pixel = 1 + k % 2;
    spec.seed = 100 + k;
    specs.push_back(spec);
  }
  RandomModelSpec single_layer;
  single_layer.hidden = {};
  specs.push_back(single_layer);
  RandomModelSpec deep;
  deep.hidden = {7, 6, 5, 4};
  deep.levels = kMaxLevels;
  deep.keep_fraction = 0.01;  // one connection per output
  specs.push_back(deep);
  return specs;
}

class TempFile {
 public:
  TempFile() {
    std::string pattern = (fs::temp_directory_path() / "lutnet-model-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  ~TempFile() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  fs::path path(const std::string& name = "model.json") const { return dir_ / name; }

 private:
  fs::path dir_;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(ModelIo, JsonRoundTripGivesTheSameModelAndBytes) {
  for (const RandomModelSpec& spec : varied_specs()) {
    SCOPED_TRACE("k = " + std::to_string(spec.k) + ", seed " + std::to_string(spec.seed));
    const Model model = make_random_model(spec);
    const std::string text = model_to_json(model);
    const Model back = model_from_json(text, "memory");
    expect_models_equal(model, back);
    EXPECT_EQ(model_to_json(back), text);
  }
}

TEST(ModelIo, SaveAndLoadThroughAFile) {
  TempFile tmp;
  for (const RandomModelSpec& spec : varied_specs()) {
    Model model = make_random_model(spec);
    model.metadata_json = R"({"epochs":3,"note":"round trip","seed":7})";  // canonical form
    save_model(model, tmp.path());
    const std::string bytes = read_file(tmp.path());
    EXPECT_EQ(bytes, model_to_json(model));
    const Model back = load_model(tmp.path());
    expect_models_equal(model, back);
    save_model(back, tmp.path("again.json"));
    EXPECT_EQ(read_file(tmp.path("again.json")), bytes);
  }
}

TEST(ModelIo, BytesAreDeterministic) {
  RandomModelSpec spec;
  spec.seed = 9;
  EXPECT_EQ(model_to_json(make_random_model(spec)), model_to_json(make_random_model(spec)));
  // The documented layout: one top-level field per line, fixed order.
  const std::string text = model_to_json(test::worked_example_model());
  EXPECT_EQ(text.rfind("{\n\"format\": \"lutnet-model\",\n\"version\": 1,\n", 0), 0u) << text;
  EXPECT_THAT(text, HasSubstr("\"tables\": [\"2\",\"2\",\"2\",\"2\",\"1\",\"1\"]"));
}

TEST(ModelIo, TablesAreFixedWidthLowerCaseHex) {
  for (int k = 1; k <= kMaxLutInputs; ++k) {
    RandomModelSpec spec;
    spec.k = k;
    spec.hidden = {};
    spec.seed = 3;
    const json j = json::parse(model_to_json(make_random_model(spec)));
    const size_t digits = k <= 2 ? 1 : (size_t{1} << k) / 4;
    for (const auto& table : j["layers"][0]["tables"]) {
      const std::string hex = table.get<std::string>();
      EXPECT_EQ(hex.size(), digits) << "k = " << k;
      EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
    }
  }
}

TEST(ModelIo, MetadataIsWrittenInCanonicalForm) {
  // Metadata is free-form JSON; the writer emits it compact with sorted keys, so a round trip keeps
  // canonical metadata as it is and canonicalizes the rest.
  Model model = test::worked_example_model();
  model.metadata_json = R"({"a":"x","b":[1,2]})";
  EXPECT_EQ(model_from_json(model_to_json(model), "m").metadata_json, model.metadata_json);
  model.metadata_json = R"({ "b": [1, 2], "a": "x" })";
  EXPECT_EQ(model_from_json(model_to_json(model), "m").metadata_json, R"({"a":"x","b":[1,2]})");
  model.metadata_json = "{not json";
  EXPECT_EQ(model_from_json(model_to_json(model), "m").metadata_json, "{}");
}

TEST(ModelIo, LoadErrorsNameTheFile) {
  TempFile tmp;
  EXPECT_THAT(error_message([&] { load_model(tmp.path("absent.json")); }),
              AllOf(HasSubstr("absent.json"), HasSubstr("cannot open")));
  std::ofstream(tmp.path("bad.json")) << "{\"format\": \"lutnet-model\", \"version\": 1,";
  EXPECT_THAT(error_message([&] { load_model(tmp.path("bad.json")); }),
              AllOf(HasSubstr("bad.json"), HasSubstr("JSON error at byte")));
}

TEST(ModelIo, SaveRejectsAnInvalidModel) {
  TempFile tmp;
  Model model = test::worked_example_model();
  model.layers[0].k = 0;
  EXPECT_THAT(error_message([&] { save_model(model, tmp.path()); }), HasSubstr("k = 0"));
  EXPECT_FALSE(fs::exists(tmp.path()));
}

}  // namespace
}  // namespace lutnet
