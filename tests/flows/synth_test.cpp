// Yosys synthesis of tiny models: LUT counts within stated bounds, per-module rows that add up,
// a sane critical path, the popcount figure, and a named error when yosys is missing.
#include "flows/synth.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/random_model.hpp"
#include "flows_test_util.hpp"

namespace lutnet::flows {
namespace {

using test::tiny_model;
using ::testing::HasSubstr;

// Bounds for a layer of pinned LUTs: every learned table is one LUT, and the adder trees with
// their threshold compares cost about one LUT per input bit plus a few per neuron.
void expect_layer_bounds(const ModuleSynth& m, int64_t neurons) {
  SCOPED_TRACE(m.label);
  EXPECT_GE(m.luts, m.learned_luts);
  EXPECT_LE(m.luts, m.learned_luts + m.popcount_bits + 8 * neurons);
}

TEST(YosysSynth, TinyModelLutCountsWithinBounds) {
  LUTNET_REQUIRE_TOOL("yosys");
  const Model model = tiny_model(21);
  const SynthReport r = synthesize(model, {}, {});
  ASSERT_EQ(r.per_layer.size(), model.layers.size() + 3);  // input, layers, argmax, top
  EXPECT_EQ(r.per_layer.front().label, "input");
  EXPECT_EQ(r.per_layer.back().label, "top");
  int64_t luts = 0, ffs = 0;
  for (const auto& m : r.per_layer) {
    luts += m.luts;
    ffs += m.ffs;
    if (m.layer >= 0) expect_layer_bounds(m, model.layers[m.layer].num_outputs);
  }
  EXPECT_EQ(luts, r.luts);
  EXPECT_EQ(ffs, r.ffs);
  EXPECT_EQ(r.per_layer.front().luts, 0);  // no encoder: the input stage is registers only
  EXPECT_GE(r.ffs, model.input.num_bits() / 2);
  EXPECT_GE(r.lut_depth, 3);  // learned LUT, counters, compare
  EXPECT_LE(r.lut_depth, 12);
  const auto j = r.to_json();
  EXPECT_EQ(j["luts"].get<int64_t>(), r.luts);
  EXPECT_EQ(j["modules"].size(), r.per_layer.size());
  EXPECT_THAT(r.table(), HasSubstr("layer 1"));
}

TEST(YosysSynth, StreamingConvModelReportsArraysWindowsAndLineBuffers) {
  LUTNET_REQUIRE_TOOL("yosys");
  RandomModelSpec spec;
  spec.input_shape = {1, 12, 12};
  spec.convs = {{3, 3, 3, 1, 2, 2}};
  spec.hidden = {};
  spec.num_classes = 2;
  spec.k = 3;
  spec.keep_fraction = 0.5;
  const Model model = make_random_model(spec);
  const SynthReport r = synthesize(model, {}, {});
  EXPECT_EQ(r.cycles_per_frame, 144);
  std::vector<std::string> labels;
  int64_t luts = 0, srls = 0, line_ffs = 0;
  for (const auto& m : r.per_layer) {
    labels.push_back(m.label);
    luts += m.luts;
    srls += m.srls;
    if (m.label == "layer 0 window" || m.label == "layer 1") line_ffs += m.ffs;
    if (m.layer >= 0) expect_layer_bounds(m, model.layers[m.layer].num_outputs);
  }
  for (const char* label :
       {"input", "layer 0", "layer 0 window", "layer 1", "flatten 2", "layer 2", "argmax", "top"})
    EXPECT_NE(std::find(labels.begin(), labels.end(), label), labels.end()) << label;
  EXPECT_EQ(luts, r.luts);
  EXPECT_EQ(srls, r.srls);
  // The conv's line buffer holds 2 rows + 2 pixels of 1 bit; the pool's 1 row + 1 pixel of 6 bits
  // (3 channels x 2 levels): as flip-flops or shift-register LUTs, but somewhere.
  EXPECT_GE(line_ffs + 32 * srls, 2 * 12 + 2 + 10 + 1);
  EXPECT_EQ(r.to_json()["cycles_per_frame"].get<int>(), 144);
  EXPECT_THAT(r.table(), HasSubstr("layer 0 window"));

  // One layer alone: its array and window rows, with the same cells as in the whole run.
  SynthOptions only;
  only.layers = {0};
  const SynthReport one = synthesize(model, {}, only);
  ASSERT_EQ(one.per_layer.size(), 2u);
  int64_t layer0 = 0;
  for (const auto& m : r.per_layer)
    layer0 += m.label == "layer 0" || m.label == "layer 0 window" ? m.luts : 0;
  EXPECT_EQ(one.luts, layer0);
  only.layers = {3};
  try {
    synthesize(model, {}, only);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("layer 3 does not exist"));
  }
}

// A tiled model: every weight memory lands in block RAM (not LUTs, LUT-RAM or flip-flops), in
// the row of its layer's tile sequencer; the array rows keep the layer bounds.
TEST(YosysSynth, TiledLayersKeepTheirWeightsInBlockRam) {
  LUTNET_REQUIRE_TOOL("yosys");
  RandomModelSpec spec;
  spec.input_shape = {1, 4, 4};
  spec.hidden = {8, 6};
  spec.num_classes = 4;
  spec.k = 3;
  spec.keep_fraction = 0.5;
  spec.tiling = {2, 4, 5, 1};  // layers 0 and 1 tiled (8 pairs each), the output layer unrolled
  const Model model = make_random_model(spec);
  const SynthReport r = synthesize(model, {}, {});
  EXPECT_EQ(r.cycles_per_frame, 8);
  int64_t luts = 0, brams = 0;
  for (const auto& m : r.per_layer) {
    luts += m.luts;
    brams += m.brams;
    if (m.layer >= 0) expect_layer_bounds(m, model.layers[m.layer].num_outputs);
    if (m.label == "layer 0 tiles" || m.label == "layer 1 tiles") {
      SCOPED_TRACE(m.label);
      EXPECT_EQ(m.brams, 1);  // 8 words of a few dozen bits: one RAMB18
      EXPECT_EQ(m.ramb18 + m.ramb36, m.brams);
      EXPECT_EQ(m.lutrams, 0);
      EXPECT_EQ(m.cells.count("RAMB18E2"), 1u);
    } else {
      EXPECT_EQ(m.brams, 0) << m.label;
    }
  }
  EXPECT_EQ(luts, r.luts);
  EXPECT_EQ(brams, 2);
  EXPECT_EQ(r.brams, 2);
  EXPECT_EQ(r.ramb18, 2);
  EXPECT_EQ(r.to_json()["ramb18"].get<int64_t>(), 2);
  EXPECT_THAT(r.table(), HasSubstr("RAMB18"));
  EXPECT_THAT(r.table(), HasSubstr("layer 1 tiles"));

  // One tiled layer alone: its array and its sequencer.
  SynthOptions only;
  only.layers = {1};
  const SynthReport one = synthesize(model, {}, only);
  ASSERT_EQ(one.per_layer.size(), 2u);
  EXPECT_EQ(one.brams, 1);
}

// A tiled conv model: the conv layer's rows are its array (LUTs), its tile sequencer (the weight
// memory in block RAM) and its window stage (the line buffer); alone (--layers 0) the same three.
TEST(YosysSynth, TiledConvStagesReportArraySequencerAndWindow) {
  LUTNET_REQUIRE_TOOL("yosys");
  RandomModelSpec spec;
  spec.input_shape = {1, 12, 12};
  spec.convs = {{4, 3, 3, 1, 2, 2}};
  spec.hidden = {};
  spec.num_classes = 2;
  spec.k = 3;
  spec.keep_fraction = 0.5;
  spec.tiling = {2, 3, 5, 1};  // the conv layer: 2 x 3 = 6 pairs; the output layer stays unrolled
  const Model model = make_random_model(spec);
  ASSERT_TRUE(model.layers[0].tiling.enabled() && !model.layers[2].tiling.enabled());
  const SynthReport r = synthesize(model, {}, {});
  EXPECT_TRUE(r.tiled);
  EXPECT_EQ(r.cycles_per_frame, 6 * 144);
  std::map<std::string, ModuleSynth> rows;
  for (const auto& m : r.per_layer) rows[m.label] = m;
  for (const char* label : {"input", "layer 0", "layer 0 tiles", "layer 0 window", "layer 1",
                            "flatten 2", "layer 2", "argmax", "top"})
    EXPECT_EQ(rows.count(label), 1u) << label;
  expect_layer_bounds(rows["layer 0"], model.layers[0].num_outputs);
  EXPECT_EQ(rows["layer 0 tiles"].brams, 1);
  EXPECT_EQ(rows["layer 0 tiles"].lutrams, 0);
  EXPECT_EQ(r.brams, 1);
  // The line buffer (2 rows + 2 pixels of 1 bit): flip-flops or shift-register LUTs.
  EXPECT_GE(rows["layer 0 window"].ffs + 32 * rows["layer 0 window"].srls, 2 * 12 + 2);
  EXPECT_THAT(r.table(), HasSubstr("layer 0 tiles"));
  EXPECT_THAT(r.table(), HasSubstr("RAMB18"));

  SynthOptions only;
  only.layers = {0};
  const SynthReport one = synthesize(model, {}, only);
  ASSERT_EQ(one.per_layer.size(), 3u);
  for (const auto& m : one.per_layer) {
    SCOPED_TRACE(m.label);
    EXPECT_EQ(m.luts, rows[m.label].luts);
    EXPECT_EQ(m.ffs, rows[m.label].ffs);
    EXPECT_EQ(m.brams, rows[m.label].brams);
  }
}

TEST(YosysSynth, EncoderAddsLutsOnlyToTheInputStage) {
  LUTNET_REQUIRE_TOOL("yosys");
  const Model model = tiny_model(22, 4, 2, 3);  // 3-bit thermometer code
  SynthOptions with;
  with.input_encoder = true;
  const SynthReport a = synthesize(model, {}, {});
  const SynthReport b = synthesize(model, {}, with);
  EXPECT_EQ(a.per_layer.front().luts, 0);
  EXPECT_GT(b.per_layer.front().luts, 0);
  // One 8-bit constant compare per encoded bit needs at most two LUTs.
  EXPECT_LE(b.per_layer.front().luts, 2 * model.input.num_bits());
  EXPECT_EQ(a.per_layer[1].luts, b.per_layer[1].luts);
}

TEST(YosysSynth, EncoderRowEqualsTheEncodedInputStage) {
  LUTNET_REQUIRE_TOOL("yosys");
  const Model model = tiny_model(22, 4, 2, 3);
  SynthOptions row, with;
  row.encoder_row = true;
  with.input_encoder = true;
  const SynthReport a = synthesize(model, {}, row);
  const SynthReport b = synthesize(model, {}, with);
  ASSERT_TRUE(a.encoder.has_value());
  EXPECT_FALSE(b.encoder.has_value());
  EXPECT_EQ(a.encoder->label, "input encoder");
  EXPECT_EQ(a.encoder->luts, b.per_layer.front().luts);
  EXPECT_EQ(a.encoder->ffs, b.per_layer.front().ffs);
  EXPECT_EQ(a.per_layer.front().luts, 0);  // the totals are the design without it
  EXPECT_EQ(a.luts_with_encoder(), b.luts);
  EXPECT_EQ(a.to_json()["luts_with_encoder"].get<int64_t>(), b.luts);
  EXPECT_THAT(a.table(), HasSubstr("input encoder"));
}

TEST(YosysSynth, FlattenedRunGivesOneRow) {
  LUTNET_REQUIRE_TOOL("yosys");
  SynthOptions o;
  o.flatten = true;
  const SynthReport r = synthesize(tiny_model(23), {}, o);
  ASSERT_EQ(r.per_layer.size(), 1u);
  EXPECT_EQ(r.per_layer[0].label, "design");
  EXPECT_GT(r.luts, 0);
}

TEST(YosysSynth, CompressorTreeBeatsFlatSum) {
  LUTNET_REQUIRE_TOOL("yosys");
  const PopcountSynth tree = synthesize_popcount(64, hdl::PopcountStyle::kCompressorTree, {});
  const PopcountSynth flat = synthesize_popcount(64, hdl::PopcountStyle::kFlatSum, {});
  EXPECT_LE(tree.luts_per_bit(), 1.1);
  EXPECT_GT(flat.luts, 2 * tree.luts);
}

TEST(YosysSynth, MissingYosysIsNamed) {
  test::ScopedPath empty("/nonexistent-lutnet-path");
  try {
    synthesize(tiny_model(24), {}, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("yosys not found on PATH"));
  }
}

TEST(YosysSynth, UnknownFamilyIsAnError) {
  LUTNET_REQUIRE_TOOL("yosys");
  SynthOptions o;
  o.family = "xc7";
  EXPECT_THROW(synthesize(tiny_model(25), {}, o), Error);
}

}  // namespace
}  // namespace lutnet::flows
