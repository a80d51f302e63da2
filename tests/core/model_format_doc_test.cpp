// docs/model-format.md shows the worked example file byte for byte; this keeps the doc honest.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/model_io.hpp"
#include "core_test_util.hpp"

namespace lutnet {
namespace {

// The first ```json block after the heading that starts with `heading`.
std::string json_block_after(const std::string& doc, const std::string& heading) {
  const size_t at = doc.find(heading);
  if (at == std::string::npos) return "";
  const std::string open = "```json\n";
  const size_t start = doc.find(open, at);
  if (start == std::string::npos) return "";
  const size_t end = doc.find("```", start + open.size());
  if (end == std::string::npos) return "";
  return doc.substr(start + open.size(), end - start - open.size());
}

// The block under `heading` in docs/model-format.md is byte for byte what the writer makes of
// `model`, and reads back as `model`.
void expect_doc_block_is(const std::string& heading, const Model& model) {
  const std::string path = std::string(LUTNET_SOURCE_DIR) + "/docs/model-format.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::ostringstream doc;
  doc << in.rdbuf();
  const std::string block = json_block_after(doc.str(), heading);
  ASSERT_FALSE(block.empty()) << "no ```json block after '" << heading << "' in " << path;
  EXPECT_EQ(block, model_to_json(model));
  test::expect_models_equal(model_from_json(block, path), model);
}

TEST(ModelFormatDoc, WorkedExampleIsExactlyWhatTheWriterProduces) {
  expect_doc_block_is("## 9. Worked example", test::worked_example_model());
}

TEST(ModelFormatDoc, WorkedConvExampleIsExactlyWhatTheWriterProduces) {
  expect_doc_block_is("## 12. Worked conv example", test::worked_conv_example_model());
}

}  // namespace
}  // namespace lutnet
