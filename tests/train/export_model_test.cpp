// The exported integer model against the trained network: the reference evaluator, the torch
// "hard forward" and the float forward must agree on every activation bit and prediction.
#include "train/export_model.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include "core/error.hpp"
#include "core/input_encoding.hpp"
#include "core/random_model.hpp"
#include "core/reference_evaluator.hpp"
#include "train/network.hpp"
#include "train_test_util.hpp"

namespace lutnet::train {
namespace {

// A network with every kind of layer and awkward batch-norm parameters (negative scales).
Network random_network(int64_t inputs, int k, int levels, uint64_t seed, bool expand) {
  Network net(inputs, {23, 17}, 7, levels, seed);
  test::randomize_parameters(net, levels);
  torch::NoGradGuard no_grad;
  net.freeze_level_ratios(2);
  net.prune({0.4, 0.5, 0.8});
  if (expand) {
    net.expand_to_luts(0, k, false, seed);
    net.expand_to_luts(1, k, true, seed);
    for (size_t i = 0; i < 2; ++i) net.layers()[i].tables.uniform_(-1, 1);
  }
  return net;
}

// Random images, their input bits and those bits as +-1 for the float network.
struct Inputs : test::EncodedImages {
  torch::Tensor signs;  // float +-1
};

Inputs random_inputs(const InputEncoding& enc, int count, uint64_t seed) {
  Inputs in{test::random_encoded_images(enc, count, seed), {}};
  in.signs = in.bits.to(torch::kFloat) * 2 - 1;
  return in;
}

// Two models compute the same accumulators in every layer on the first `count` images.
void expect_same_accumulators(const Model& before, const Model& after, const Inputs& in,
                              int count) {
  const size_t pixels = static_cast<size_t>(before.input.num_pixels());
  for (int i = 0; i < count; ++i) {
    std::vector<LayerTrace> a, b;
    evaluate_reference(before, in.pixels.data() + i * pixels, &a);
    evaluate_reference(after, in.pixels.data() + i * pixels, &b);
    for (size_t l = 0; l < a.size(); ++l)
      ASSERT_EQ(a[l].accumulators, b[l].accumulators) << "image " << i << " layer " << l;
  }
}

struct Case {
  int k, levels, input_bits;
  bool expand;
};

class ExportTest : public ::testing::TestWithParam<Case> {};

// The reference evaluator on the exported model, the hard forward and the float forward of `net`
// on random images.
void expect_views_agree(Network& net, const InputEncoding& enc) {
  const Model model = export_model(net, enc, "t", "{}");
  const int count = 300;
  const Inputs in = random_inputs(enc, count, 99);
  const HardTrace hard = hard_forward(net, model, in.bits);
  ForwardTrace ft;
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = net.forward(in.signs, false, WeightMode::kBinary, TableMode::kBinary, &ft);
  }
  int64_t float_disagreements = 0, bits_total = 0;
  for (int i = 0; i < count; ++i) {
    std::vector<LayerTrace> trace;
    const Prediction p = evaluate_reference(
        model, in.pixels.data() + static_cast<size_t>(i) * enc.num_pixels(), &trace);
    ASSERT_EQ(p.label, hard.labels[i].item<int64_t>()) << "image " << i;
    for (size_t l = 0; l < model.layers.size(); ++l) {
      const auto& spec = model.layers[l];
      for (int o = 0; o < spec.num_outputs; ++o)
        ASSERT_EQ(trace[l].accumulators[o], hard.accumulators[l][i][o].item<int64_t>())
            << "image " << i << " layer " << l << " output " << o;
      for (int b = 0; b < spec.output_levels; ++b)
        for (int o = 0; o < spec.num_outputs; ++o) {
          const int ref = trace[l].output_bits[static_cast<size_t>(b) * spec.num_outputs + o];
          ASSERT_EQ(ref, hard.bits[l][i][b][o].item<uint8_t>())
              << "image " << i << " layer " << l << " level " << b << " output " << o;
          float_disagreements += ref != (ft.planes[l][i][b][o].item<float>() > 0);
          ++bits_total;
        }
    }
  }
  // The float network differs from the integer one only where a value sits exactly on a threshold.
  EXPECT_LE(float_disagreements, bits_total / 1000) << float_disagreements << " of " << bits_total;
  // Where the float logits pick another class, it must be one tied with the integer maximum
  // (float sums of equal values in a different order).
  const auto float_labels = logits.argmax(1);
  const auto& scores = hard.accumulators.back();
  for (int i = 0; i < count; ++i)
    EXPECT_EQ(scores[i][float_labels[i].item<int64_t>()].item<int64_t>(),
              scores[i].max().item<int64_t>())
        << "image " << i;
}

TEST_P(ExportTest, ReferenceHardAndFloatForwardAgreeOnEveryBit) {
  const Case c = GetParam();
  InputEncoding enc;
  enc.shape = {1, 5, 6};
  enc.thresholds = thermometer_thresholds(c.input_bits);
  Network net = random_network(enc.num_bits(), c.k, c.levels, 7 + c.k, c.expand);
  expect_views_agree(net, enc);
}

INSTANTIATE_TEST_SUITE_P(Networks, ExportTest,
                         ::testing::Values(Case{2, 2, 1, true}, Case{3, 1, 2, true},
                                           Case{4, 2, 2, true}, Case{5, 2, 1, true},
                                           Case{6, 1, 1, true}, Case{4, 2, 1, false},
                                           Case{4, 1, 3, false}));

TEST(Export, BinaryTablesInitialisedFromThePrunedNetworkReproduceIt) {
  InputEncoding enc;
  enc.shape = {1, 5, 6};
  enc.thresholds = {128};
  Network xnor = random_network(enc.num_bits(), 4, 2, 3, false);
  const Model before = export_model(xnor, enc, "t", "{}");
  for (size_t i = 0; i < 2; ++i) xnor.expand_to_luts(i, 4, false, 3);
  const Model after = export_model(xnor, enc, "t", "{}");
  EXPECT_EQ(after.layers[0].k, 4);
  const Inputs in = random_inputs(enc, 200, 5);
  expect_same_accumulators(before, after, in, 200);
}

// Tiled layers: layers 0 and 1 tiled 4x3 (tied masks), the output layer unrolled.
Network random_tiled_network(const InputEncoding& enc, int k, int n, int levels, uint64_t seed,
                             bool expand) {
  Network net(enc.num_bits(), {24, 16}, 7, levels, seed);
  net.set_tiles(0, {4, 3});
  net.set_tiles(1, {4, 2});
  test::randomize_parameters(net, levels);
  torch::NoGradGuard no_grad;
  net.freeze_level_ratios(2);
  net.prune({0.4, 0.5, 0.8});
  if (expand) {
    net.expand_tiled_to_luts(0, k, n, seed);
    net.expand_tiled_to_luts(1, k, n, seed);
    for (size_t i = 0; i < 2; ++i) {
      net.layers()[i].tables.uniform_(-1, 1);
      net.layers()[i].bit_weights.uniform_(-1, 1);
    }
  }
  return net;
}

struct TiledCase {
  int k, n, levels, input_bits;
  bool expand;
};

class TiledExportTest : public ::testing::TestWithParam<TiledCase> {};

TEST_P(TiledExportTest, ReferenceHardAndFloatForwardAgreeOnEveryBit) {
  const TiledCase c = GetParam();
  InputEncoding enc;
  enc.shape = {1, 5, 6};
  enc.thresholds = thermometer_thresholds(c.input_bits);
  Network net = random_tiled_network(enc, c.k, c.n, c.levels, 11 + c.k * 3 + c.n, c.expand);
  const Model model = export_model(net, enc, "t", "{}");
  ASSERT_TRUE(model.layers[0].tiling.enabled());
  EXPECT_EQ(model.layers[0].tiling.k, c.expand ? c.k : 2);
  EXPECT_EQ(model.layers[0].k, c.expand ? c.k - c.n : 1);
  EXPECT_FALSE(model.layers[2].tiling.enabled());
  expect_views_agree(net, enc);
}

INSTANTIATE_TEST_SUITE_P(Networks, TiledExportTest,
                         ::testing::Values(TiledCase{5, 1, 2, 1, true}, TiledCase{4, 2, 2, 2, true},
                                           TiledCase{6, 3, 1, 1, true}, TiledCase{3, 1, 2, 1, true},
                                           TiledCase{2, 1, 1, 1, true},
                                           TiledCase{5, 1, 2, 1, false}));

TEST(TiledTraining, PruningTiesTheMaskAcrossTilePairs) {
  InputEncoding enc;
  enc.shape = {1, 5, 6};
  enc.thresholds = {128};
  const Network net = random_tiled_network(enc, 5, 1, 2, 3, false);
  const auto mask = net.layers()[0].mask;  // [24, 30], tiles of 6 x 10
  const auto tile = mask.slice(0, 0, 6).slice(1, 0, 10);
  EXPECT_NEAR(tile.sum().item<double>(), 0.4 * 60, 0.5);
  for (int to = 0; to < 4; ++to)
    for (int ti = 0; ti < 3; ++ti)
      EXPECT_TRUE(mask.slice(0, to * 6, to * 6 + 6).slice(1, ti * 10, ti * 10 + 10).equal(tile))
          << "tile pair " << to << ", " << ti;
}

TEST(TiledTraining, ExpandedTablesReproduceTheTiledBaselineAndWeightBitsGetGradients) {
  InputEncoding enc;
  enc.shape = {1, 5, 6};
  enc.thresholds = {128};
  Network net = random_tiled_network(enc, 5, 1, 2, 4, false);
  const Model before = export_model(net, enc, "t", "{}");
  for (size_t i = 0; i < 2; ++i) net.expand_tiled_to_luts(i, 5, 1, 4);
  const Model after = export_model(net, enc, "t", "{}");
  const Inputs in = random_inputs(enc, 100, 5);
  expect_same_accumulators(before, after, in, 100);
  // Tables and weight bits both learn.
  const auto logits =
      net.forward(in.signs, true, WeightMode::kBinary, TableMode::kReal, nullptr, 0);
  logits.pow(2).sum().backward();
  EXPECT_GT(net.layers()[0].tables.grad().abs().sum().item<double>(), 0);
  EXPECT_GT(net.layers()[0].bit_weights.grad().abs().sum().item<double>(), 0);
}

TEST(TiledTraining, TilesThatDoNotDivideTheLayerAreAnError) {
  Network net(30, {24, 16}, 7, 2, 1);
  try {
    net.set_tiles(0, {5, 3});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "config: tiles 5x3 of layer 0 do not divide its 24 outputs x 30 inputs");
  }
  EXPECT_THROW(net.set_tiles(2, {7, 1}), Error);  // the output layer
}

}  // namespace
}  // namespace lutnet::train
