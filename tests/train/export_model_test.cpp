// The exported integer model against the trained network: the reference evaluator, the torch
// "hard forward" and the float forward must agree on every activation bit and prediction.
#include "train/export_model.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

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

struct Case {
  int k, levels, input_bits;
  bool expand;
};

class ExportTest : public ::testing::TestWithParam<Case> {};

TEST_P(ExportTest, ReferenceHardAndFloatForwardAgreeOnEveryBit) {
  const Case c = GetParam();
  InputEncoding enc;
  enc.shape = {1, 5, 6};
  enc.thresholds = thermometer_thresholds(c.input_bits);
  Network net = random_network(enc.num_bits(), c.k, c.levels, 7 + c.k, c.expand);
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
  for (int i = 0; i < 200; ++i) {
    const auto* px = in.pixels.data() + static_cast<size_t>(i) * enc.num_pixels();
    std::vector<LayerTrace> a, b;
    evaluate_reference(before, px, &a);
    evaluate_reference(after, px, &b);
    for (size_t l = 0; l < a.size(); ++l)
      ASSERT_EQ(a[l].accumulators, b[l].accumulators) << "image " << i << " layer " << l;
  }
}

}  // namespace
}  // namespace lutnet::train
