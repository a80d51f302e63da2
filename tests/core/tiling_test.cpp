// Tiled layers: the lowering against a direct reading of the tiled hardware (shared table,
// address bits from the weight memory), the file round trip, and the reader's checks.
#include "core/tiling.hpp"

#include <gtest/gtest.h>

#include <random>

#include "core/model_io.hpp"
#include "core/random_model.hpp"
#include "core/reference_evaluator.hpp"
#include "core_test_util.hpp"

namespace lutnet {
namespace {

// What the tiled array computes for one output, read straight from the tiling: for every tile
// pair of the output's tile and every kept position, the shared table addressed by the
// activations and the connection's weight bits (DESIGN.md §9).
int64_t tiled_accumulator(const Layer& layer, const uint8_t* planes, int o) {
  const Tiling& t = layer.tiling;
  const int po = o % t.tile_outputs(), pi_count = t.tile_inputs();
  int64_t acc = 0;
  for (int ti = 0; ti < t.tn; ++ti)
    for (int pi = 0; pi < pi_count; ++pi) {
      const size_t position = size_t(po) * pi_count + pi;
      if (!t.mask[position]) continue;
      const int base = ti * pi_count;
      const unsigned weight = t.weight_bits[size_t(o) * layer.num_inputs + base + pi];
      for (int l = 0; l < layer.input_levels; ++l) {
        const uint8_t* plane = planes + size_t(l) * layer.num_inputs;
        unsigned address = plane[base + pi];
        for (int j = 1; j < t.k - t.n; ++j)
          address |= unsigned{plane[base + t.extra_inputs[size_t(j - 1) * pi_count + pi]]} << j;
        address |= weight << (t.k - t.n);
        const uint64_t table = t.tables[position * layer.input_levels + l];
        acc += layer.level_weights[l] * int64_t((table >> address) & 1);
      }
    }
  return acc;
}

Model random_tiled_model(int k, int n, uint64_t seed) {
  RandomModelSpec spec;
  spec.input_shape = {24};
  spec.hidden = {12, 8};
  spec.num_classes = 4;
  spec.levels = 2;
  spec.keep_fraction = 0.4;
  spec.tiling = {4, 3, k, n};
  spec.seed = seed;
  return make_random_model(spec);
}

TEST(Tiling, LoweringComputesWhatTheTiledArrayComputes) {
  for (const auto& [k, n] : {std::pair{5, 1}, {3, 1}, {4, 2}, {6, 3}, {2, 1}, {6, 1}}) {
    SCOPED_TRACE(testing::Message() << "k = " << k << ", n = " << n);
    const Model model = random_tiled_model(k, n, 10 + k * 4 + n);
    ASSERT_TRUE(model.layers[0].tiling.enabled());
    ASSERT_TRUE(model.layers[1].tiling.enabled());
    EXPECT_FALSE(model.layers[2].tiling.enabled());  // 8 inputs: not 3 tiles
    const auto pixels = make_random_pixels(model, 20, 7);
    const auto shapes = infer_shapes(model);
    for (int image = 0; image < 20; ++image) {
      std::vector<LayerTrace> trace;
      evaluate_reference(model, pixels.data() + image * 24, &trace);
      std::vector<uint8_t> input(24);
      for (int p = 0; p < 24; ++p) input[p] = pixels[image * 24 + p] >= 128;
      for (size_t li = 0; li < 2; ++li) {
        const uint8_t* planes = li == 0 ? input.data() : trace[li - 1].output_bits.data();
        for (int o = 0; o < model.layers[li].num_outputs; ++o)
          ASSERT_EQ(tiled_accumulator(model.layers[li], planes, o), trace[li].accumulators[o])
              << "image " << image << " layer " << li << " output " << o;
      }
    }
  }
}

TEST(Tiling, TiedTablesAndMaskAreSharedByEveryTilePair) {
  const Model model = random_tiled_model(5, 1, 3);
  const Layer& layer = model.layers[0];
  const Tiling& t = layer.tiling;
  // Outputs o and o + tile_outputs() sit at the same tile position: the same number of
  // connections, reading inputs at the same offsets within their tiles.
  for (int o = 0; o + t.tile_outputs() < layer.num_outputs; ++o) {
    const int other = o + t.tile_outputs();
    ASSERT_EQ(layer.conn_offset[o + 1] - layer.conn_offset[o],
              layer.conn_offset[other + 1] - layer.conn_offset[other]);
    for (uint32_t c = 0; c < layer.conn_offset[o + 1] - layer.conn_offset[o]; ++c)
      for (int j = 0; j < layer.k; ++j)
        EXPECT_EQ(layer.lut_inputs[(layer.conn_offset[o] + c) * layer.k + j],
                  layer.lut_inputs[(layer.conn_offset[other] + c) * layer.k + j]);
  }
  EXPECT_EQ(layer.k, 4);  // k - n activation inputs after lowering
}

TEST(Tiling, FileRoundTripKeepsTheTilingAndWritesVersion3) {
  const Model model = random_tiled_model(5, 1, 4);
  const std::string text = model_to_json(model);
  EXPECT_NE(text.find("\"version\": 3"), std::string::npos);
  EXPECT_NE(text.find("\"tiling\""), std::string::npos);
  test::expect_models_equal(model, model_from_json(text, "m.json"));
  // An untiled model keeps its old version.
  RandomModelSpec plain;
  EXPECT_NE(model_to_json(make_random_model(plain)).find("\"version\": 1"), std::string::npos);
}

TEST(Tiling, ReaderNamesTheDefect) {
  const std::string text = model_to_json(random_tiled_model(5, 1, 5));
  auto mutated = [&](const std::string& from, const std::string& to) {
    std::string copy = text;
    const size_t at = copy.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    copy.replace(at, from.size(), to);
    return copy;
  };
  EXPECT_NE(test::error_message([&] {
              model_from_json(mutated("\"tiles\": [4,3]", "\"tiles\": [5,3]"), "m.json");
            }).find("m.json: layer 0: tiling: tiles 5x3 must divide 12 outputs x 24 inputs"),
            std::string::npos);
  EXPECT_NE(test::error_message([&] {
              model_from_json(mutated("\"n\": 1", "\"n\": 5"), "m.json");
            }).find("'n' = 5 is out of range 1..3"),
            std::string::npos);
  EXPECT_NE(test::error_message([&] {
              model_from_json(mutated("\"version\": 3", "\"version\": 2"), "m.json");
            }).find("m.json: layer 0: missing field 'k'"),
            std::string::npos);
  // A weight bit on a pruned position: find one and set it.
  const Model model = random_tiled_model(5, 1, 5);
  const Tiling& t = model.layers[0].tiling;
  int pruned = -1;
  for (int pi = 0; pi < t.tile_inputs() && pruned < 0; ++pi)
    if (!t.mask[pi]) pruned = pi;
  ASSERT_GE(pruned, 0);
  Model bad = model;
  bad.layers[0].tiling.weight_bits[pruned] = 1;
  EXPECT_NE(test::error_message([&] { validate(bad); })
                .find("layer 0: tiling weight_bits of output 0 input " + std::to_string(pruned) +
                      " is not 0 at a pruned position"),
            std::string::npos);
  // Lowered fields that are not the lowering.
  bad = model;
  bad.layers[0].tables[0] ^= 1;
  EXPECT_NE(test::error_message([&] {
              validate(bad);
            }).find("layer 0: the LUT fields are not the lowering of the layer's tiling"),
            std::string::npos);
}

TEST(Tiling, ConvLayersTileTheirWindow) {
  RandomModelSpec spec;
  spec.input_shape = {2, 6, 6};
  spec.convs = {{4, 3, 3, 1, 2, 2}};
  spec.hidden = {8};
  spec.num_classes = 3;
  spec.tiling = {2, 3, 5, 1};
  const Model model = make_random_model(spec);
  ASSERT_TRUE(model.layers[0].tiling.enabled());  // 4 outputs x 18 window positions
  EXPECT_EQ(model.layers[0].tiling.tile_inputs(), 6);
  test::expect_models_equal(model, model_from_json(model_to_json(model), "c.json"));
}

}  // namespace
}  // namespace lutnet
