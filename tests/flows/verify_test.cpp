// The generated RTL under Verilator: lint-clean, and equal to the reference evaluator on random
// tiny models -- class, accumulators and hidden layer outputs -- in every generator variant.
#include "flows/verify.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "flows_test_util.hpp"
#include "hdl/verilog_writer.hpp"

namespace lutnet::flows {
namespace {

using test::random_images;
using test::tiny_model;
using ::testing::HasSubstr;

TEST(VerilatorLint, GeneratedVerilogIsCleanUnderWall) {
  LUTNET_REQUIRE_TOOL("verilator");
  WorkDir dir({}, false, "lutnet-lint");
  int variant = 0;
  for (bool xilinx : {false, true})
    for (bool encoder : {false, true})
      for (auto style : {hdl::PopcountStyle::kCompressorTree, hdl::PopcountStyle::kFlatSum}) {
        hdl::HdlOptions o;
        o.xilinx_primitives = xilinx;
        o.input_encoder = encoder;
        o.popcount = style;
        o.adder_pipeline_stages = variant % 3;
        const hdl::HdlDesign d = hdl::generate_verilog(tiny_model(100 + variant, 4, 2, 2), o);
        const std::string file = fmt::format("v{}.v", variant++);
        write_file_atomically(dir.path() / file, d.verilog);
        std::vector<std::string> argv = {"verilator",    "--lint-only", "-Wall",
                                         "--top-module", d.top_name,    file};
        if (xilinx) {
          write_file_atomically(dir.path() / "luts.v", d.simulation_models);
          argv.push_back("luts.v");
        }
        const auto log = dir.path() / fmt::format("{}.log", file);
        EXPECT_NO_THROW(run_command({argv, dir.path(), log})) << file;
        std::ifstream in(log);
        std::stringstream text;
        text << in.rdbuf();
        EXPECT_EQ(text.str(), "") << "verilator -Wall printed warnings for " << file;
      }
}

void expect_identical(const Model& model, const VerifyOptions& options, int images) {
  const VerifyReport r = verify_rtl(model, random_images(model, images, 9), options);
  EXPECT_EQ(r.images, static_cast<size_t>(images));
  EXPECT_EQ(r.mismatches, 0u) << "image " << r.first_mismatch_image << ": " << r.first_mismatch;
  EXPECT_EQ(r.first_mismatch_image, -1);
  EXPECT_GT(r.latency_cycles, 2);
}

TEST(VerilatorVerify, RtlEqualsReferenceDefaultForm) {
  LUTNET_REQUIRE_TOOL("verilator");
  expect_identical(tiny_model(1), {}, 500);
}

TEST(VerilatorVerify, RtlEqualsReferenceEncoderPipelinedGates) {
  LUTNET_REQUIRE_TOOL("verilator");
  VerifyOptions o;
  o.hdl.input_encoder = true;
  o.hdl.adder_pipeline_stages = 2;
  o.hdl.popcount = hdl::PopcountStyle::kCompressorGates;
  o.bubble_every = 3;
  expect_identical(tiny_model(2, 3, 3, 3), o, 400);
}

TEST(VerilatorVerify, RtlEqualsReferenceXilinxPrimitivesXnorAndFlatSum) {
  LUTNET_REQUIRE_TOOL("verilator");
  VerifyOptions o;
  o.hdl.xilinx_primitives = true;
  o.hdl.popcount = hdl::PopcountStyle::kFlatSum;
  o.bubble_every = 0;
  expect_identical(tiny_model(3, 1, 2, 2), o, 300);
  VerifyOptions k6;
  k6.hdl.xilinx_primitives = true;
  k6.hdl.adder_pipeline_stages = 1;
  expect_identical(tiny_model(4, 6, 1, 1), k6, 300);
}

TEST(VerilatorVerify, NamesTheFirstMismatchingImageAndLayer) {
  LUTNET_REQUIRE_TOOL("verilator");
  const Model model = tiny_model(5);
  // The reference gets a model whose layer 1 neuron 0 compares with the opposite sign.
  Model wrong = model;
  wrong.layers[1].output_sign[0] = static_cast<int8_t>(-wrong.layers[1].output_sign[0]);
  for (int t = 0; t < wrong.layers[1].thresholds_per_output(); ++t)
    wrong.layers[1].thresholds[t] = -wrong.layers[1].thresholds[t];
  VerifyOptions o;
  o.reference_model = &wrong;
  const VerifyReport r = verify_rtl(model, random_images(model, 200, 3), o);
  EXPECT_GT(r.mismatches, 0u);
  EXPECT_GE(r.first_mismatch_image, 0);
  EXPECT_EQ(r.first_mismatch_layer, 1);
  EXPECT_THAT(r.first_mismatch, HasSubstr("layer 1 output 0"));
}

TEST(VerilatorVerify, MissingVerilatorIsNamed) {
  const Model model = tiny_model(6);
  test::ScopedPath empty("/nonexistent-lutnet-path");
  try {
    verify_rtl(model, random_images(model, 4, 1), {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("verilator not found on PATH"));
  }
}

TEST(VerilatorVerify, DatasetOfTheWrongShapeIsAnError) {
  const Model model = tiny_model(7);
  Dataset d = random_images(model, 4, 1);
  d.pixels.pop_back();
  try {
    verify_rtl(model, d, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("16 pixels per image"));
  }
}

TEST(VerilatorHarness, ReadsEveryHiddenLayerAndTheOutputs) {
  const hdl::HdlDesign d = hdl::generate_verilog(tiny_model(8), {});
  const std::string h = verilator_harness(d, 13);
  EXPECT_THAT(h, HasSubstr("root->lutnet_top__DOT__layer0_y"));
  EXPECT_THAT(h, HasSubstr("root->lutnet_top__DOT__layer1_y"));
  EXPECT_THAT(h, ::testing::Not(HasSubstr("layer2_y")));  // the output layer arrives as scores
  EXPECT_THAT(h, HasSubstr("top->out_scores"));
}

}  // namespace
}  // namespace lutnet::flows
