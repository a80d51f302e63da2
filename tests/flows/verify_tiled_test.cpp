// Tiled dense layers under Verilator: the RTL equals the reference evaluator on random tiled
// models for several (K, N) and tile shapes, tiled and unrolled layers mixed, inputs back to back
// (full rate) and with gaps; the harness holds in_valid until in_ready and checks that in_ready
// comes exactly the stated initiation interval after each taken input and every output the
// stated latency after it. Lint-clean under -Wall.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/tiling.hpp"
#include "flows/verify.hpp"
#include "flows_test_util.hpp"
#include "hdl/verilog_writer.hpp"

namespace lutnet::flows {
namespace {

using test::random_images;
using ::testing::HasSubstr;

struct TiledCase {
  int k, n, tm, tn;
  std::vector<int> hidden;
  int classes;
  int levels = 2;
  int bits_per_pixel = 1;
};

Model tiled_model(const TiledCase& c, uint64_t seed) {
  RandomModelSpec spec;
  spec.input_shape = {1, 4, 4};
  spec.input_bits_per_pixel = c.bits_per_pixel;
  spec.hidden = c.hidden;
  spec.num_classes = c.classes;
  spec.k = 3;  // the layers the tiling does not divide stay unrolled with K = 3
  spec.levels = c.levels;
  spec.keep_fraction = 0.5;
  spec.tiling = {c.tm, c.tn, c.k, c.n};
  spec.seed = seed;
  return make_random_model(spec);
}

int tiled_layers(const Model& model) {
  int n = 0;
  for (const auto& layer : model.layers) n += layer.tiling.enabled();
  return n;
}

void expect_tiled_identical(const Model& model, const VerifyOptions& options, int images) {
  const VerifyReport r = verify_rtl(model, random_images(model, images, 5), options);
  EXPECT_EQ(r.images, static_cast<size_t>(images));
  EXPECT_EQ(r.mismatches, 0u) << "image " << r.first_mismatch_image << ": " << r.first_mismatch;
  const hdl::HdlDesign d = hdl::generate_verilog(model, options.hdl);
  EXPECT_EQ(r.cycles_per_frame, d.initiation_interval);
  EXPECT_EQ(r.latency_cycles, d.latency_cycles);
}

TEST(VerilatorTiled, RtlEqualsReferenceForSeveralKAndN) {
  LUTNET_REQUIRE_TOOL("verilator");
  // 16 input bits. Layers whose sizes the tiles do not divide stay unrolled.
  const std::vector<TiledCase> cases = {
      {5, 1, 2, 4, {8, 6}, 4},     // layers 0 and 1 tiled, the output layer unrolled
      {4, 2, 3, 2, {6, 6}, 3},     // every layer tiled, the argmax layer too
      {3, 1, 1, 2, {10}, 5, 3},    // one output tile, 3 levels, adder pipeline
      {6, 3, 2, 2, {8}, 2, 1, 2},  // 2-bit thermometer input (32 bits), encoder, LUTn primitives
      {2, 1, 4, 1, {8, 4}, 4},     // one input tile; K = 2, N = 1 is the XNOR baseline's shape
      {4, 1, 1, 1, {8}, 3},        // one tile pair: an input every clock, in_ready always high
      {5, 1, 4, 2, {8, 8}, 4, 3},  // 4 output tiles: threshold units from a ROM, 3 levels
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const TiledCase& c = cases[i];
    SCOPED_TRACE(testing::Message() << "K = " << c.k << ", N = " << c.n);
    const Model model = tiled_model(c, 30 + i);
    ASSERT_GE(tiled_layers(model), 1);
    VerifyOptions o;
    o.bubble_every = i % 2 ? 3 : 0;  // back to back, or gaps after about one input in three
    o.hdl.adder_pipeline_stages = c.levels == 3 ? 2 : 0;
    o.hdl.input_encoder = c.bits_per_pixel == 2;
    o.hdl.xilinx_primitives = c.bits_per_pixel == 2;
    o.hdl.popcount = i == 4 ? hdl::PopcountStyle::kFlatSum : hdl::PopcountStyle::kCompressorTree;
    expect_tiled_identical(model, o, 150);
  }
}

TEST(VerilatorTiled, NamesAWrongWeightBit) {
  LUTNET_REQUIRE_TOOL("verilator");
  const Model model = tiled_model({5, 1, 2, 4, {8, 6}, 4}, 40);
  // The reference reads layer 1 with the kept weight bits of output 0 flipped.
  Model wrong = model;
  Layer& layer = wrong.layers[1];
  Tiling& t = layer.tiling;
  for (int i = 0; i < layer.num_inputs; ++i)
    if (t.mask[i % t.tile_inputs()]) t.weight_bits[i] ^= 1;
  lower_tiling(layer, "test");
  VerifyOptions o;
  o.reference_model = &wrong;
  const VerifyReport r = verify_rtl(model, random_images(model, 200, 3), o);
  EXPECT_GT(r.mismatches, 0u);
  EXPECT_EQ(r.first_mismatch_layer, 1);
  EXPECT_THAT(r.first_mismatch, HasSubstr("layer 1 output"));
}

TEST(VerilatorTiled, LintCleanUnderWall) {
  LUTNET_REQUIRE_TOOL("verilator");
  WorkDir dir({}, false, "lutnet-lint-tiled");
  int variant = 0;
  for (const TiledCase& c : {TiledCase{5, 1, 2, 4, {8, 6}, 4}, TiledCase{4, 2, 3, 2, {6, 6}, 3},
                             TiledCase{3, 2, 1, 1, {8}, 4}, TiledCase{6, 1, 3, 4, {6}, 3},
                             TiledCase{5, 1, 4, 2, {8, 8}, 4, 3}})
    for (int options = 0; options < 2; ++options) {
      hdl::HdlOptions o;
      o.xilinx_primitives = options == 1;
      o.input_encoder = options == 1;
      o.adder_pipeline_stages = options;
      o.popcount =
          variant % 3 == 2 ? hdl::PopcountStyle::kFlatSum : hdl::PopcountStyle::kCompressorTree;
      const hdl::HdlDesign d = hdl::generate_verilog(tiled_model(c, 50 + variant), o);
      ASSERT_TRUE(d.in_ready);
      const std::string file = fmt::format("t{}.v", variant++);
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
