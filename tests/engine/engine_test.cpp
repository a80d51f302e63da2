// The engine must equal evaluate_reference bit for bit: every label and every last-layer
// accumulator, for every ISA this CPU runs, on random models over K = 1..6, one to three
// activation levels, thermometer inputs, widths that are not multiples of 64, duplicate LUT inputs,
// constant tables, extreme thresholds, and batch sizes around the word boundaries.
#include "engine/engine.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/random_model.hpp"
#include "core/reference_evaluator.hpp"
#include "engine_test_util.hpp"

namespace lutnet::engine {
namespace {

std::string spec_name(const RandomModelSpec& s) {
  std::string hidden;
  for (int h : s.hidden) hidden += std::to_string(h) + "-";
  return "k=" + std::to_string(s.k) + " levels=" + std::to_string(s.levels) +
         " bits=" + std::to_string(s.input_bits_per_pixel) + " hidden=" + hidden +
         " classes=" + std::to_string(s.num_classes) + " keep=" + std::to_string(s.keep_fraction) +
         " seed=" + std::to_string(s.seed);
}

// Compares every ISA with the reference on the batch sizes of the issue.
void check_spec(const RandomModelSpec& spec, const std::vector<size_t>& counts) {
  SCOPED_TRACE(spec_name(spec));
  const Model model = make_random_model(spec);
  size_t max_count = 0;
  for (size_t c : counts) max_count = std::max(max_count, c);
  const auto pixels = make_random_pixels(model, static_cast<int>(max_count), spec.seed + 100);
  const Outputs expected = run_reference(model, pixels, max_count);
  for (const Variant& v : variants()) {
    SCOPED_TRACE(v.name());
    for (size_t count : counts) {
      SCOPED_TRACE("batch " + std::to_string(count));
      Outputs want;
      want.labels.assign(expected.labels.begin(), expected.labels.begin() + count);
      want.scores.assign(expected.scores.begin(),
                         expected.scores.begin() + count * model.num_classes);
      expect_same(want, run_engine(model, pixels, count, v), model.num_classes);
    }
  }
}

TEST(EngineTest, AllIsasMatchReferenceOverKAndLevels) {
  for (int k = 1; k <= 6; ++k) {
    for (int levels = 1; levels <= 2; ++levels) {
      RandomModelSpec spec;
      spec.input_shape = {1, 9, 11};  // 99 pixels: not a multiple of 64
      spec.hidden = {70, 37};
      spec.num_classes = 10;
      spec.k = k;
      spec.levels = levels;
      spec.keep_fraction = 0.3;
      spec.seed = static_cast<uint64_t>(10 * k + levels);
      check_spec(spec, {1, 63, 64, 65, 1000});
    }
  }
}

// Tiled layers reach the engine as their lowering (k - n inputs, tied masks): every (k, n).
TEST(EngineTest, TiledLayersMatchReference) {
  for (const auto& [k, n] : {std::pair{5, 1}, {4, 2}, {6, 3}, {2, 1}}) {
    RandomModelSpec spec;
    spec.input_shape = {1, 8, 12};
    spec.hidden = {64, 32};
    spec.num_classes = 10;
    spec.levels = 2;
    spec.keep_fraction = 0.3;
    spec.tiling = {8, 8, k, n};
    spec.seed = static_cast<uint64_t>(40 + 4 * k + n);
    SCOPED_TRACE("tiled k=" + std::to_string(k) + " n=" + std::to_string(n));
    check_spec(spec, {1, 64, 129});
  }
}

TEST(EngineTest, ThermometerInputsThreeLevelsAndSmallLayers) {
  RandomModelSpec spec;
  spec.input_shape = {3, 5, 5};
  spec.input_bits_per_pixel = 3;
  spec.hidden = {5, 3, 1, 7};
  spec.num_classes = 3;
  spec.k = 5;
  spec.levels = 3;
  spec.keep_fraction = 1.0;
  spec.seed = 7;
  check_spec(spec, {1, 65, 300});
}

TEST(EngineTest, WideLayerUsesWideIndicesAndManyConnections) {
  // 2 thermometer bits of 1600 pixels: 3200 inputs, beyond 16-bit plane offsets at 512 bits.
  RandomModelSpec spec;
  spec.input_shape = {1, 40, 40};
  spec.input_bits_per_pixel = 2;
  spec.hidden = {33};
  spec.num_classes = 4;
  spec.k = 3;
  spec.levels = 2;
  spec.keep_fraction = 0.2;
  spec.seed = 3;
  check_spec(spec, {1, 64, 129});
}

TEST(EngineTest, SingleLayerArgmaxModel) {
  RandomModelSpec spec;
  spec.input_shape = {1, 3, 3};
  spec.hidden = {};
  spec.num_classes = 2;
  spec.k = 2;
  spec.keep_fraction = 0.5;
  spec.seed = 5;
  check_spec(spec, {1, 64, 65});
}

// Duplicate LUT inputs, constant and single-input tables, XNOR tables, small and large level
// weights (large ones exceed the generated code's registers), and thresholds far outside the
// accumulator range, with both output signs.
void check_degenerate(uint64_t max_weight, uint64_t seed) {
  RandomModelSpec spec;
  spec.input_shape = {1, 4, 5};
  spec.hidden = {13, 9};
  spec.num_classes = 6;
  spec.k = 4;
  spec.levels = 2;
  spec.keep_fraction = 0.6;
  spec.seed = seed;
  Model model = make_random_model(spec);
  std::mt19937_64 rng(seed);
  for (auto& layer : model.layers) {
    for (size_t c = 0; c < layer.num_connections(); ++c) {
      uint32_t* in = &layer.lut_inputs[c * layer.k];
      if (rng() % 3 == 0) in[1] = in[0];
      if (rng() % 4 == 0) in[3] = in[2];
      for (int l = 0; l < layer.input_levels; ++l) {
        uint64_t& t = layer.tables[c * layer.input_levels + l];
        switch (rng() % 6) {
          case 0:
            t = 0;
            break;
          case 1:
            t = layer.table_mask();
            break;
          case 2:
            t = 0xAAAA & layer.table_mask();
            break;  // input 0
          case 3:
            t = 0x5555 & layer.table_mask();
            break;  // not input 0
          case 4:
            t = 0xF0F0 & layer.table_mask();
            break;  // input 2
          default:
            break;
        }
      }
    }
    for (auto& w : layer.level_weights) w = 1 + static_cast<int64_t>(rng() % max_weight);
    for (size_t i = 0; i < layer.thresholds.size(); ++i) {
      switch (rng() % 5) {
        case 0:
          layer.thresholds[i] = INT64_MAX;
          break;
        case 1:
          layer.thresholds[i] = INT64_MIN;
          break;
        case 2:
          layer.thresholds[i] = 0;
          break;
        default:
          break;
      }
    }
  }
  validate(model);
  const auto pixels = make_random_pixels(model, 700, 9);
  const Outputs expected = run_reference(model, pixels, 700);
  for (const Variant& v : variants()) {
    SCOPED_TRACE(v.name());
    expect_same(expected, run_engine(model, pixels, 700, v), model.num_classes);
  }
}

TEST(EngineTest, DegenerateTablesAndThresholds) {
  check_degenerate(3, 11);
  check_degenerate(1000, 12);
}

TEST(EngineTest, EveryIsaMatchesScalarOnMnistSizedModel) {
  RandomModelSpec spec;
  spec.input_shape = {1, 28, 28};
  spec.hidden = {256, 256, 256, 256};
  spec.num_classes = 10;
  spec.k = 4;
  spec.levels = 2;
  spec.keep_fraction = 0.1;
  spec.seed = 2024;
  const Model model = make_random_model(spec);
  const size_t count = 1500;
  const auto pixels = make_random_pixels(model, static_cast<int>(count), 1);
  const Outputs scalar = run_engine(model, pixels, count, {Isa::kScalar, false});
  const Outputs reference = run_reference(model, pixels, 100);
  Outputs head;
  head.labels.assign(scalar.labels.begin(), scalar.labels.begin() + 100);
  head.scores.assign(scalar.scores.begin(), scalar.scores.begin() + 100 * 10);
  expect_same(reference, head, 10);
  for (const Variant& v : variants()) {
    SCOPED_TRACE(v.name());
    expect_same(scalar, run_engine(model, pixels, count, v), 10);
    expect_same(scalar, run_engine(model, pixels, count, v, 2), 10);
    if (has_code_generator(v.isa) && v.generate_code) {  // every layer of it
      EXPECT_EQ(CompiledModel::compile(model, {v.isa, 1, true}).generated_layers(), 5);
    }
  }
}

// Code generation must cover every layer of a typical model, and give way to the generic kernel
// when the accumulators are too wide for its registers (here: level weights near 2^19), on every
// ISA of this CPU that has a generator.
TEST(EngineTest, GeneratedCodeCoversTypicalLayersAndFallsBack) {
  RandomModelSpec spec;
  spec.input_shape = {1, 8, 8};
  spec.hidden = {40, 30};
  spec.num_classes = 10;
  spec.k = 6;
  spec.keep_fraction = 0.2;
  const Model typical = make_random_model(spec);
  Model wide = typical;
  wide.layers[1].level_weights = {(int64_t{1} << 19) + 12345, (int64_t{1} << 19) - 1};
  const auto pixels = make_random_pixels(wide, 1100, 4);
  int generators = 0;
  for (Isa isa : available_isas()) {
    if (!has_code_generator(isa)) continue;
    SCOPED_TRACE(isa_name(isa));
    ++generators;
    EXPECT_EQ(CompiledModel::compile(typical, {isa, 1, true}).generated_layers(), 3);
    EXPECT_EQ(CompiledModel::compile(typical, {isa, 1, false}).generated_layers(), 0);
    EXPECT_EQ(CompiledModel::compile(wide, {isa, 1, true}).generated_layers(), 2);
    // Several chunks per group, a generated layer feeding a generic one and back.
    expect_same(run_reference(wide, pixels, 1100), run_engine(wide, pixels, 1100, {isa, true}),
                wide.num_classes);
  }
  if (generators == 0) GTEST_SKIP() << "no ISA with a code generator on this CPU";
}

TEST(EngineTest, ThreadsAndRepeatedRunsGiveSameResults) {
  RandomModelSpec spec;
  spec.input_shape = {1, 6, 6};
  spec.hidden = {20};
  spec.num_classes = 4;
  spec.seed = 8;
  const Model model = make_random_model(spec);
  const auto pixels = make_random_pixels(model, 3000, 2);
  const Outputs expected = run_reference(model, pixels, 3000);
  const CompiledModel compiled = CompiledModel::compile(model, {Isa::kBest, 3});
  for (int repeat = 0; repeat < 3; ++repeat) {
    std::vector<int32_t> labels(3000);
    compiled.run(pixels.data(), 3000, labels.data(), nullptr);  // scores are optional
    EXPECT_EQ(labels, expected.labels);
  }
}

TEST(EngineTest, TransposeMatchesNaive) {
  std::mt19937_64 rng(1);
  for (Isa isa : available_isas()) {
    SCOPED_TRACE(isa_name(isa));
    for (int trial = 0; trial < 20; ++trial) {
      uint64_t a[64], b[64] = {};
      for (auto& x : a) x = rng();
      for (int i = 0; i < 64; ++i)
        for (int j = 0; j < 64; ++j) b[j] |= ((a[i] >> j) & 1u) << i;
      transpose64_for_test(isa, a);
      for (int i = 0; i < 64; ++i) ASSERT_EQ(a[i], b[i]) << "row " << i;
    }
  }
}

TEST(EngineTest, IsaNamesAndErrors) {
  EXPECT_EQ(parse_isa("avx2"), Isa::kAvx2);
  EXPECT_EQ(parse_isa("best"), Isa::kBest);
  EXPECT_THROW(parse_isa("sse9"), Error);
  const auto isas = available_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), Isa::kScalar);
  EXPECT_EQ(best_isa(), isas.back());
  RandomModelSpec spec;
  const Model model = make_random_model(spec);
  EXPECT_THROW(CompiledModel::compile(model, {Isa::kScalar, 0}), Error);
  Model broken = model;
  broken.layers[0].lut_inputs[0] = 9999;
  EXPECT_THROW(CompiledModel::compile(broken), Error);
  const CompiledModel compiled = CompiledModel::compile(model);
  EXPECT_STREQ(compiled.isa_name(), isa_name(best_isa()));
  EXPECT_GT(compiled.word_ops_per_image(), 0);
}

TEST(EngineTest, LayerStatsCountIgnoredInputs) {
  RandomModelSpec spec;
  spec.hidden = {4};
  spec.num_classes = 2;
  spec.k = 3;
  spec.levels = 1;
  spec.keep_fraction = 1.0;
  Model model = make_random_model(spec);
  auto& layer = model.layers[0];
  for (auto& t : layer.tables) t = 0xAA;  // depends on input 0 only
  const auto stats = layer_stats(model);
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].connections, layer.num_connections());
  EXPECT_DOUBLE_EQ(stats[0].fraction_kept, 1.0);
  EXPECT_EQ(stats[0].tables_ignoring_input[0], 0u);
  EXPECT_EQ(stats[0].tables_ignoring_input[1], layer.tables.size());
  EXPECT_EQ(stats[0].tables_ignoring_input[2], layer.tables.size());
  EXPECT_EQ(stats[0].tables_ignoring_some, layer.tables.size());
  EXPECT_EQ(stats[0].distinct_inputs_read, 16u);
}

}  // namespace
}  // namespace lutnet::engine
