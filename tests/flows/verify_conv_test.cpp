// Streaming conv and pool hardware under Verilator: lint-clean, and equal to the reference on
// random conv models (stride 2, odd sizes, overlapping pools, thermometer inputs, mixed LUT and
// XNOR layers) on every output pixel of every layer, the scores and the class, with frames back
// to back and with gaps; a mismatch names the image, layer, pixel, channel and bit.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/random_model.hpp"
#include "flows/stage_verify.hpp"
#include "flows/verify.hpp"
#include "flows_test_util.hpp"
#include "hdl/verilog_writer.hpp"

namespace lutnet::flows {
namespace {

using test::random_images;
using ::testing::HasSubstr;

// A conv network with an odd-sized input, a strided conv, an overlapping pool and a dense tail.
Model conv_model(uint64_t seed, int k = 3, int levels = 2, int bits = 2) {
  RandomModelSpec spec;
  spec.input_shape = {2, 9, 8};
  spec.input_bits_per_pixel = bits;
  spec.convs = {{4, 3, 3, 1, 3, 2}, {5, 2, 2, 1, 0, 1}};
  spec.hidden = {6};
  spec.num_classes = 3;
  spec.k = k;
  spec.levels = levels;
  spec.keep_fraction = 0.4;
  spec.seed = seed;
  return make_random_model(spec);
}

// Layer 0 XNOR (k = 1), a stride-2 LUT conv after it, a non-overlapping pool, dense tail.
Model mixed_model(uint64_t seed) {
  RandomModelSpec spec;
  spec.input_shape = {1, 11, 10};
  spec.input_bits_per_pixel = 1;
  spec.convs = {{3, 3, 3, 1, 0, 1}, {4, 3, 3, 2, 2, 2}};
  spec.hidden = {};
  spec.num_classes = 4;
  spec.k = 4;
  spec.levels = 2;
  spec.keep_fraction = 0.5;
  spec.seed = seed;
  Model model = make_random_model(spec);
  RandomModelSpec xnor = spec;
  xnor.k = 1;
  model.layers[0] = make_random_model(xnor).layers[0];  // same shape, k = 1
  validate(model);
  return model;
}

// Inverts every table of output `o` of `layer` (or only its level-0 tables).
void invert_tables(Layer& layer, int o, bool every_level = true) {
  for (uint32_t c = layer.conn_offset[o]; c < layer.conn_offset[o + 1]; ++c)
    for (int l = 0; l < (every_level ? layer.input_levels : 1); ++l)
      layer.tables[c * layer.input_levels + l] ^= layer.table_mask();
}

void expect_conv_identical(const Model& model, const VerifyOptions& options, int images) {
  const VerifyReport r = verify_rtl(model, random_images(model, images, 9), options);
  EXPECT_EQ(r.images, static_cast<size_t>(images));
  EXPECT_EQ(r.mismatches, 0u) << "image " << r.first_mismatch_image << ": " << r.first_mismatch;
  EXPECT_EQ(r.cycles_per_frame, model.input.num_pixels() / model.input.shape[0]);
  EXPECT_GT(r.latency_cycles, r.cycles_per_frame);
}

TEST(VerilatorConv, GeneratedStreamingVerilogIsCleanUnderWall) {
  LUTNET_REQUIRE_TOOL("verilator");
  WorkDir dir({}, false, "lutnet-lint-conv");
  int variant = 0;
  for (const Model& model : {conv_model(1), mixed_model(2)})
    for (bool encoder : {false, true}) {
      hdl::HdlOptions o;
      o.input_encoder = encoder;
      o.adder_pipeline_stages = variant % 2;
      const hdl::HdlDesign d = hdl::generate_verilog(model, o);
      EXPECT_TRUE(d.streaming);
      const std::string file = fmt::format("c{}.v", variant++);
      write_file_atomically(dir.path() / file, d.verilog);
      const auto log = dir.path() / fmt::format("{}.log", file);
      EXPECT_NO_THROW(
          run_command({{"verilator", "--lint-only", "-Wall", "--top-module", d.top_name, file},
                       dir.path(),
                       log}))
          << file;
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      EXPECT_EQ(text.str(), "") << "verilator -Wall printed warnings for " << file;
    }
}

TEST(VerilatorConv, RtlEqualsReferenceWithGapsAndBackToBack) {
  LUTNET_REQUIRE_TOOL("verilator");
  VerifyOptions gaps;
  gaps.bubble_every = 7;
  expect_conv_identical(conv_model(3), gaps, 40);
  VerifyOptions back_to_back;  // also checks the stated latency on every frame
  back_to_back.bubble_every = 0;
  back_to_back.hdl.adder_pipeline_stages = 2;
  expect_conv_identical(conv_model(4, 5, 1, 1), back_to_back, 40);
}

TEST(VerilatorConv, MixedXnorAndLutLayersThroughTheEncoder) {
  LUTNET_REQUIRE_TOOL("verilator");
  VerifyOptions o;
  o.hdl.input_encoder = true;
  o.bubble_every = 5;
  expect_conv_identical(mixed_model(5), o, 30);
  o.bubble_every = 0;
  expect_conv_identical(mixed_model(6), o, 30);
}

TEST(VerilatorConv, NamesTheFirstMismatchingPixel) {
  LUTNET_REQUIRE_TOOL("verilator");
  const Model model = conv_model(7);
  Model wrong = model;
  invert_tables(wrong.layers[2], 1);  // channel 1 of the second conv layer changes somewhere
  VerifyOptions o;
  o.reference_model = &wrong;
  const VerifyReport r = verify_rtl(model, random_images(model, 20, 3), o);
  EXPECT_GT(r.mismatches, 0u);
  EXPECT_EQ(r.first_mismatch_layer, 2);
  EXPECT_THAT(r.first_mismatch, HasSubstr("layer 2 (lut_conv2d) pixel (row "));
  EXPECT_THAT(r.first_mismatch, HasSubstr("channel 1 bit"));
}

// Every stage alone (input stage, conv, pool, flatten, dense, argmax) equals the reference on every
// image, with and without gaps, through the encoder and with LUT and XNOR layers mixed.
TEST(VerilatorConv, EveryStageAloneEqualsReference) {
  LUTNET_REQUIRE_TOOL("verilator");
  VerifyOptions o;
  o.stages = true;
  o.limit = 3;  // the assembled design: a few frames
  o.bubble_every = 0;
  const Model model = conv_model(11);
  const VerifyReport r = verify_rtl(model, random_images(model, 50, 4), o);
  EXPECT_TRUE(r.passed()) << "image " << r.first_mismatch_image << ": " << r.first_mismatch;
  EXPECT_EQ(r.images, 3u);
  EXPECT_EQ(r.stage_images, 50u);
  // input, conv, pool, conv, flatten, dense, dense, argmax
  ASSERT_EQ(r.stages.size(), 8u);
  EXPECT_EQ(r.stages[4].label, "flatten before layer 3");
  o.hdl.input_encoder = true;
  o.bubble_every = 3;
  o.stage_limit = 30;
  const Model mixed = mixed_model(12);
  const VerifyReport m = verify_rtl(mixed, random_images(mixed, 60, 5), o);
  EXPECT_TRUE(m.passed()) << "image " << m.first_mismatch_image << ": " << m.first_mismatch;
  EXPECT_EQ(m.stage_images, 30u);
}

// A stage that differs is found alone, and named: stage, pixel, channel, bit; stages before it
// agree.
TEST(VerilatorConv, StageMismatchNamesTheStageAndPixel) {
  LUTNET_REQUIRE_TOOL("verilator");
  const Model model = conv_model(13);
  Model wrong = model;
  invert_tables(wrong.layers[2], 1);
  invert_tables(wrong.layers.back(), 0, /*every_level=*/false);  // the scores of class 0
  const hdl::HdlDesign design = hdl::generate_verilog(model, {});
  WorkDir dir({}, false, "lutnet-stages");
  VerifyOptions o;
  const StageVerification v =
      verify_stages(model, wrong, design, random_images(model, 20, 3), 20, dir.path(), o);
  EXPECT_GT(v.mismatches, 0u);
  EXPECT_EQ(v.first_mismatch_layer, 2);
  EXPECT_THAT(v.first_mismatch, HasSubstr("layer 2 (lut_conv2d) pixel (row "));
  EXPECT_THAT(v.first_mismatch, HasSubstr("channel 1 bit"));
  ASSERT_EQ(v.stages.size(), 8u);
  // Each stage reads the reference's outputs of the one before: only the two changed ones differ.
  for (size_t s : {0, 1, 2, 4, 5, 7}) EXPECT_EQ(v.stages[s].mismatches, 0u) << v.stages[s].label;
  EXPECT_GT(v.stages[3].mismatches, 0u);
  EXPECT_GT(v.stages[6].mismatches, 0u) << "the output layer's scores";
}

}  // namespace
}  // namespace lutnet::flows
