// `lutnet power` on tiny models through Yosys: the gate-level simulation of the synthesized
// netlist equals the reference evaluator on every image (unrolled, tiled, streaming conv and
// tiled conv designs; the streaming ones have stalls, which Yosys 0.23's SRLs got wrong), a wrong
// reference is caught, the activity adds up over the modules, the block RAMs of tiled layers are
// read, and the SAIF file and the Vivado script are written.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/read_file.hpp"
#include "flows/power.hpp"
#include "flows_test_util.hpp"

namespace lutnet::flows {
namespace {

using test::random_images;
using test::tiny_model;
using ::testing::HasSubstr;

// A 6x6 image, a 3x3 conv of `channels` channels and a 2x2 / 2 pool: a streaming design whose
// pool stage gets its pixels in bursts (stalls in between).
RandomModelSpec conv_pool_spec(int channels, uint64_t seed) {
  RandomModelSpec spec;
  spec.input_shape = {1, 6, 6};
  spec.convs = {{channels, 3, 3, 1, 2, 2}};
  spec.hidden = {};
  spec.num_classes = 2;
  spec.k = 3;
  spec.seed = seed;
  return spec;
}

// A fresh directory under the test's temporary directory.
std::filesystem::path scratch_dir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) / fmt::format("lutnet-{}-{}", name, ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

PowerReport expect_power_identical(const Model& model, int images, PowerOptions options = {}) {
  const PowerReport r = estimate_power(model, random_images(model, images, 5), options);
  EXPECT_EQ(r.images, static_cast<size_t>(images));
  EXPECT_EQ(r.mismatches, 0u) << "image " << r.first_mismatch_image << ": " << r.first_mismatch;
  EXPECT_GT(r.total.activity.net_toggles, 0);
  EXPECT_GT(r.total.activity.lut_output_toggles, 0);
  EXPECT_GT(r.total.activity.ff_output_toggles, 0);
  EXPECT_GT(r.pj_per_frame(r.total.simulated), 0);
  EXPECT_GT(r.pj_per_frame(r.total.vectorless), 0);
  EXPECT_LE(r.total.simulated.low_pj, r.total.simulated.total_pj);
  EXPECT_GE(r.total.simulated.high_pj, r.total.simulated.total_pj);
  // The run: every frame at the design's rate, and the pipeline's fill.
  EXPECT_GE(r.cycles, static_cast<uint64_t>(images) * r.cycles_per_frame);
  // The parts are lutnet synth's rows and add up to the total.
  EXPECT_EQ(r.parts.size(), r.synth.per_layer.size());
  double toggles = 0, pj = 0;
  for (const auto& p : r.parts) {
    toggles += p.activity.net_toggles;
    pj += p.simulated.total_pj;
  }
  EXPECT_DOUBLE_EQ(toggles, r.total.activity.net_toggles);
  EXPECT_NEAR(pj, r.total.simulated.total_pj, 1e-6 * pj);
  EXPECT_THAT(r.table(), HasSubstr("frames/J"));
  EXPECT_EQ(r.to_json()["mismatches"].get<size_t>(), 0u);
  return r;
}

TEST(PowerFlow, UnrolledDenseNetlistEqualsReference) {
  LUTNET_REQUIRE_TOOL("yosys");
  const Model model = tiny_model(31);
  const PowerReport r = expect_power_identical(model, 60);
  EXPECT_EQ(r.cycles_per_frame, 1);
  EXPECT_EQ(r.total.activity.bram18_reads + r.total.activity.bram36_reads, 0);
  // Every LUT the synthesis counted drives a net the simulation saw (or was absorbed into one).
  EXPECT_GT(r.total.activity.lut_outputs, 0);
  EXPECT_LE(r.total.activity.lut_outputs, r.synth.luts);
}

TEST(PowerFlow, TiledDenseReadsItsWeightMemories) {
  LUTNET_REQUIRE_TOOL("yosys");
  RandomModelSpec spec;
  spec.input_shape = {1, 4, 4};
  spec.hidden = {8, 8};
  spec.num_classes = 4;
  spec.k = 3;
  spec.tiling = {2, 2, 4, 1};
  spec.seed = 7;
  const Model model = make_random_model(spec);
  const PowerReport r = expect_power_identical(model, 30);
  EXPECT_GT(r.cycles_per_frame, 1);
  EXPECT_GT(r.synth.brams, 0);
  // The weight memories are read while their sequencer runs: once per tile pair (2 x 2) and
  // frame, in every block RAM of the layer.
  double brams = 0;
  for (size_t m = 0; m < r.parts.size(); ++m) {
    SCOPED_TRACE(r.parts[m].label);
    const auto& a = r.parts[m].activity;
    const auto& s = r.synth.per_layer[m];
    EXPECT_EQ(a.bram18_ports + a.bram36_ports, s.brams);
    EXPECT_DOUBLE_EQ(a.bram18_reads + a.bram36_reads, 30.0 * 4 * static_cast<double>(s.brams));
    brams += static_cast<double>(s.brams);
  }
  EXPECT_GT(brams, 0);
}

TEST(PowerFlow, StreamingAndTiledConvNetlistsEqualReference) {
  LUTNET_REQUIRE_TOOL("yosys");
  RandomModelSpec spec = conv_pool_spec(4, 3);
  expect_power_identical(make_random_model(spec), 8);
  spec.tiling = {2, 3, 4, 1};  // 4 outputs x 9 inputs in 2 x 3 tiles
  const Model tiled = make_random_model(spec);
  ASSERT_TRUE(tiled.layers[0].tiling.enabled());
  const PowerReport r = expect_power_identical(tiled, 6);
  EXPECT_GT(r.total.activity.bram18_reads + r.total.activity.bram36_reads, 0);
}

TEST(PowerFlow, WrongReferenceIsCaught) {
  LUTNET_REQUIRE_TOOL("yosys");
  const Model model = tiny_model(31);
  const Model other = tiny_model(32);
  PowerOptions options;
  options.reference_model = &other;
  const PowerReport r = estimate_power(model, random_images(model, 40, 5), options);
  EXPECT_GT(r.mismatches, 0u);
  EXPECT_FALSE(r.passed());
  EXPECT_THAT(r.first_mismatch, HasSubstr("reference"));
}

TEST(PowerFlow, WritesSaifAndVivadoScript) {
  LUTNET_REQUIRE_TOOL("yosys");
  const std::filesystem::path dir = scratch_dir("power-saif");
  PowerOptions options;
  options.saif = dir / "activity.saif";
  options.tcl = dir / "power.tcl";
  options.clock_mhz = 250;
  const PowerReport r = expect_power_identical(tiny_model(33), 20, options);
  const std::string saif = read_text_file(options.saif, "saif");
  EXPECT_THAT(saif, HasSubstr("(DESIGN \"lutnet_top\")"));
  EXPECT_THAT(saif, HasSubstr("(INSTANCE u_layer0"));
  EXPECT_THAT(saif, HasSubstr(fmt::format("(DURATION {})", r.cycles * 4000)));
  const std::string tcl = read_text_file(options.tcl, "tcl");
  EXPECT_THAT(tcl, HasSubstr("read_saif -strip_path lutnet_top"));
  EXPECT_THAT(tcl, HasSubstr("activity.saif"));
  EXPECT_THAT(tcl, HasSubstr("-period 4.000"));
  EXPECT_THAT(tcl, HasSubstr("report_power"));
  EXPECT_TRUE(std::filesystem::exists(dir / "power.v"));
  std::filesystem::remove_all(dir);
}

// A kept synthesis is simulated as it is when it has no SRLs (its encoder row's netlist, which
// defines the input stage a second time, left out), and synthesized again with -nosrl when it
// has them.
TEST(PowerFlow, ReusesAKeptSynthesisWithoutShiftRegisters) {
  LUTNET_REQUIRE_TOOL("yosys");
  const std::filesystem::path dir = scratch_dir("power-reuse");
  SynthOptions keep;
  keep.work_dir = dir / "dense";
  keep.keep = true;
  keep.encoder_row = true;
  const Model dense = test::tiny_model(34);
  const SynthReport dense_synth = synthesize(dense, {}, keep);
  ASSERT_EQ(dense_synth.srls, 0);
  ASSERT_TRUE(dense_synth.encoder.has_value());
  PowerOptions options;
  options.synthesized = &dense_synth;
  const PowerReport r = expect_power_identical(dense, 20, options);
  EXPECT_TRUE(r.synth.srl);  // the kept run, not a -nosrl one
  EXPECT_EQ(r.synth.luts, dense_synth.luts);

  const Model conv = make_random_model(conv_pool_spec(2, 4));
  keep.work_dir = dir / "conv";
  const SynthReport conv_synth = synthesize(conv, {}, keep);
  ASSERT_GT(conv_synth.srls, 0);
  options.synthesized = &conv_synth;
  const PowerReport c = expect_power_identical(conv, 4, options);
  EXPECT_FALSE(c.synth.srl);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lutnet::flows
