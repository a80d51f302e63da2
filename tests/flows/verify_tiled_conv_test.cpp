// Tiled layers in streaming (conv) designs under Verilator: tiled lut_conv2d stages (the window
// latched, the tile pairs walked by the sequencer) and tiled dense layers behind the collector,
// mixed with unrolled conv, pool and dense layers. The RTL equals the reference evaluator on every
// output pixel of every layer, the scores and the class, with pixels taken back to back at the
// paced rate (in_ready every R clocks, which also checks the stated latency of every frame) and
// with gaps inside and between frames; in_ready is checked on every clock. Every stage alone,
// paced at its tile pairs, equals the reference too. Lint-clean under -Wall.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/random_model.hpp"
#include "core/tiling.hpp"
#include "flows/stage_verify.hpp"
#include "flows/verify.hpp"
#include "flows_test_util.hpp"
#include "hdl/verilog_writer.hpp"

namespace lutnet::flows {
namespace {

using test::random_images;
using ::testing::HasSubstr;

// A random conv model whose layer i is tiled as tilings[i] says (tm = 0 or a tiling that does not
// divide the layer: unrolled with K = spec.k). Layers come from random models of the same shape
// with different tilings, so every combination is a valid model.
Model tiled_conv_model(RandomModelSpec spec, const std::vector<RandomTilingSpec>& tilings) {
  spec.tiling = {};
  Model model = make_random_model(spec);
  for (size_t i = 0; i < tilings.size() && i < model.layers.size(); ++i) {
    if (tilings[i].tm == 0) continue;
    RandomModelSpec s = spec;
    s.tiling = tilings[i];
    s.seed = spec.seed + 100 + i;
    model.layers[i] = make_random_model(s).layers[i];
  }
  validate(model);
  return model;
}

// 9x8 pixels of 2 channels, a 3x3 conv of 4 channels tiled 2x2, an overlapping 3x3 / 2 pool, a
// 2x2 conv of 5 channels (unrolled), a dense layer of 6 tiled 2x2, an unrolled output layer.
Model model_a(uint64_t seed) {
  RandomModelSpec spec;
  spec.input_shape = {2, 9, 8};
  spec.input_bits_per_pixel = 2;
  spec.convs = {{4, 3, 3, 1, 3, 2}, {5, 2, 2, 1, 0, 1}};
  spec.hidden = {6};
  spec.num_classes = 3;
  spec.k = 3;
  spec.levels = 2;
  spec.keep_fraction = 0.4;
  spec.seed = seed;
  return tiled_conv_model(spec, {{2, 2, 5, 1}, {}, {}, {2, 2, 4, 2}});
}

// 11x10 pixels, an unrolled 3x3 conv, a stride-2 3x3 conv tiled 2x3 with (K, N) = (4, 2) (6
// pairs, windows 2 input pixels apart: R = 3), a 2x2 / 1 pool, and a tiled argmax layer.
Model model_b(uint64_t seed) {
  RandomModelSpec spec;
  spec.input_shape = {1, 11, 10};
  spec.convs = {{3, 3, 3, 1, 0, 1}, {4, 3, 3, 2, 2, 1}};
  spec.hidden = {};
  spec.num_classes = 4;
  spec.k = 4;
  spec.levels = 2;
  spec.keep_fraction = 0.5;
  spec.seed = seed;
  return tiled_conv_model(spec, {{}, {2, 3, 4, 2}, {}, {2, 3, 3, 1}});
}

// Two tiled convs with different tile pairs, 3 levels: conv 0 (4 pairs) on the input, a 2x2 / 2
// pool, conv 2 (16 pairs) whose windows come 2 input pixels apart at the closest: R = 8.
Model model_c(uint64_t seed) {
  RandomModelSpec spec;
  spec.input_shape = {1, 8, 7};
  spec.input_bits_per_pixel = 3;
  spec.convs = {{4, 2, 2, 1, 2, 2}, {4, 2, 2, 1, 2, 1}};
  spec.hidden = {};
  spec.num_classes = 2;
  spec.k = 2;
  spec.levels = 3;
  spec.keep_fraction = 0.5;
  spec.seed = seed;
  return tiled_conv_model(spec, {{2, 2, 3, 1}, {}, {4, 4, 6, 3}});
}

// No tiled conv: an unrolled conv over 4x4 pixels and a dense layer tiled 4x9 (36 pairs) behind
// the collector, so R = ceil(36 / 16) = 3 pixels.
Model model_d(uint64_t seed) {
  RandomModelSpec spec;
  spec.input_shape = {1, 4, 4};
  spec.convs = {{2, 2, 2, 1, 0, 1}};
  spec.hidden = {8};
  spec.num_classes = 3;
  spec.k = 3;
  spec.levels = 2;
  spec.seed = seed;
  return tiled_conv_model(spec, {{}, {4, 9, 5, 1}});
}

void expect_identical(const Model& model, const VerifyOptions& options, int images) {
  const VerifyReport r = verify_rtl(model, random_images(model, images, 9), options);
  EXPECT_EQ(r.images, static_cast<size_t>(images));
  EXPECT_EQ(r.mismatches, 0u) << "image " << r.first_mismatch_image << ": " << r.first_mismatch;
  const hdl::HdlDesign d = hdl::generate_verilog(model, options.hdl);
  EXPECT_EQ(r.cycles_per_frame, d.pixel_interval * d.frame_pixels);
  EXPECT_EQ(r.latency_cycles, d.latency_cycles);
}

// R = the largest ceil(pairs / g) over the tiled layers, g the fewest input pixels between two of
// their windows (frames).
TEST(TiledConvDesign, PacingFollowsTheClosestWindows) {
  const hdl::HdlDesign a = hdl::generate_verilog(model_a(1), {});
  EXPECT_TRUE(a.streaming && a.in_ready);
  ASSERT_TRUE(a.layers[0].tiled && !a.layers[2].tiled && a.layers[3].tiled);
  EXPECT_EQ(a.pixel_interval, 4);  // conv 0: 2 x 2 pairs; the dense layer's 4 fit in a frame
  EXPECT_EQ(a.initiation_interval, 4 * 72);
  EXPECT_EQ(hdl::generate_verilog(model_b(1), {}).pixel_interval, 3);
  EXPECT_EQ(hdl::generate_verilog(model_c(1), {}).pixel_interval, 8);
  const hdl::HdlDesign d = hdl::generate_verilog(model_d(1), {});
  EXPECT_EQ(d.pixel_interval, 3);
  EXPECT_EQ(d.initiation_interval, 48);
  EXPECT_THAT(d.verilog, HasSubstr("3 x 16 = 48 cycles per frame"));
}

TEST(VerilatorTiledConv, RtlEqualsReferenceBackToBackAndWithGaps) {
  LUTNET_REQUIRE_TOOL("verilator");
  struct Case {
    Model model;
    int bubble_every;
    bool encoder;
    int pipeline;
  };
  const std::vector<Case> cases = {
      {model_a(3), 0, false, 0},  // full rate: the stated latency on every frame
      {model_a(4), 3, true, 1},   // gaps after about one pixel in three
      {model_b(5), 0, true, 2},   // stride 2, tiled argmax layer
      {model_b(6), 5, false, 0}, {model_c(7), 0, false, 1},  // two tiled convs, 3 levels
      {model_c(8), 4, false, 0}, {model_d(9), 0, false, 0},  // the tiled dense layer sets R
      {model_d(10), 2, true, 0},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "case " << i);
    VerifyOptions o;
    o.bubble_every = cases[i].bubble_every;
    o.hdl.input_encoder = cases[i].encoder;
    o.hdl.adder_pipeline_stages = cases[i].pipeline;
    o.hdl.xilinx_primitives = i == 5;
    expect_identical(cases[i].model, o, 12);
  }
}

TEST(VerilatorTiledConv, NamesAWrongWeightBitOfATiledConv) {
  LUTNET_REQUIRE_TOOL("verilator");
  const Model model = model_a(11);
  // The reference reads conv layer 0 with the kept weight bits of output channel 1 flipped.
  Model wrong = model;
  Layer& layer = wrong.layers[0];
  Tiling& t = layer.tiling;
  const int po = 1 % t.tile_outputs();
  for (int i = 0; i < layer.num_inputs; ++i)
    if (t.mask[static_cast<size_t>(po) * t.tile_inputs() + i % t.tile_inputs()])
      t.weight_bits[static_cast<size_t>(layer.num_inputs) + i] ^= 1;
  lower_tiling(layer, "test");
  VerifyOptions o;
  o.reference_model = &wrong;
  const VerifyReport r = verify_rtl(model, random_images(model, 10, 3), o);
  EXPECT_GT(r.mismatches, 0u);
  EXPECT_EQ(r.first_mismatch_layer, 0);
  EXPECT_THAT(r.first_mismatch, HasSubstr("layer 0 (lut_conv2d) pixel (row "));
  EXPECT_THAT(r.first_mismatch, HasSubstr("channel 1 bit"));
}

// Every stage alone: the tiled conv stage and the tiled dense layer driven at their tile pairs'
// rate (their closest windows, frames), the others a pixel per clock; back to back here, with
// gaps in StageMismatchNamesTheTiledStage.
TEST(VerilatorTiledConv, EveryStageAloneEqualsReference) {
  LUTNET_REQUIRE_TOOL("verilator");
  VerifyOptions o;
  o.stages = true;
  o.limit = 2;
  o.bubble_every = 0;
  const Model a = model_a(12);
  const VerifyReport r = verify_rtl(a, random_images(a, 30, 4), o);
  EXPECT_TRUE(r.passed()) << "image " << r.first_mismatch_image << ": " << r.first_mismatch;
  EXPECT_EQ(r.stage_images, 30u);
  // input, conv (tiled), pool, conv, flatten, dense (tiled), dense, argmax
  ASSERT_EQ(r.stages.size(), 8u);
  const hdl::HdlDesign d = hdl::generate_verilog(a, {});
  const std::vector<StageBench> benches = stage_benches(a, d);
  EXPECT_TRUE(benches[1].tiled && benches[5].tiled && !benches[3].tiled);
  EXPECT_EQ(benches[1].interval, 4);
}

TEST(VerilatorTiledConv, StageMismatchNamesTheTiledStage) {
  LUTNET_REQUIRE_TOOL("verilator");
  const Model model = model_a(14);
  Model wrong = model;
  Layer& layer = wrong.layers[0];
  Tiling& t = layer.tiling;
  for (int o = 0; o < layer.num_outputs; ++o)  // every kept weight bit of conv layer 0 flipped
    for (int i = 0; i < layer.num_inputs; ++i)
      if (t.mask[static_cast<size_t>(o % t.tile_outputs()) * t.tile_inputs() + i % t.tile_inputs()])
        t.weight_bits[static_cast<size_t>(o) * layer.num_inputs + i] ^= 1;
  lower_tiling(layer, "test");
  const hdl::HdlDesign design = hdl::generate_verilog(model, {});
  WorkDir dir({}, false, "lutnet-tiled-stages");
  VerifyOptions o;
  const StageVerification v =
      verify_stages(model, wrong, design, random_images(model, 10, 3), 10, dir.path(), o);
  EXPECT_GT(v.mismatches, 0u);
  EXPECT_EQ(v.first_mismatch_layer, 0);
  EXPECT_THAT(v.first_mismatch, HasSubstr("layer 0 (lut_conv2d) pixel (row "));
  ASSERT_EQ(v.stages.size(), 8u);
  EXPECT_GT(v.stages[1].mismatches, 0u);
  for (size_t s : {0, 2, 3, 4, 5, 6, 7}) EXPECT_EQ(v.stages[s].mismatches, 0u) << v.stages[s].label;
}

TEST(VerilatorTiledConv, LintCleanUnderWall) {
  LUTNET_REQUIRE_TOOL("verilator");
  WorkDir dir({}, false, "lutnet-lint-tiled-conv");
  int variant = 0;
  for (const Model& model : {model_a(20), model_b(21), model_c(22), model_d(23)})
    for (int options = 0; options < 2; ++options) {
      hdl::HdlOptions o;
      o.xilinx_primitives = options == 1;
      o.input_encoder = options == 1;
      o.adder_pipeline_stages = options;
      const hdl::HdlDesign d = hdl::generate_verilog(model, o);
      ASSERT_TRUE(d.streaming && d.in_ready);
      const std::string file = fmt::format("tc{}.v", variant++);
      write_file_atomically(dir.path() / file, d.verilog);
      std::vector<std::string> argv = {"verilator",    "--lint-only", "-Wall",
                                       "--top-module", d.top_name,    file};
      if (o.xilinx_primitives) {
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

}  // namespace
}  // namespace lutnet::flows
