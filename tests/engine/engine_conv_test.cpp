// Conv and max-pool layers in the engine: every ISA variant equals the reference on random conv
// models (odd sizes, stride 2, K = 1..6, L = 1..2, thermometer inputs, pooling, conv followed by
// dense), on the class scores and, through probe models, on every activation bit of every pixel
// of every hidden layer.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/random_model.hpp"
#include "engine_test_util.hpp"

namespace lutnet::engine {
namespace {

// Compares every ISA with the reference on the whole model and on a probe after every hidden
// layer.
void check_all_layers(const Model& model, size_t count, uint64_t seed) {
  const auto pixels = make_random_pixels(model, static_cast<int>(count), seed);
  for (size_t layers = 1; layers <= model.layers.size(); ++layers) {
    const Model m = layers == model.layers.size() ? model : make_probe_model(model, layers);
    SCOPED_TRACE("after layer " + std::to_string(layers - 1) + " (" +
                 layer_kind_name(model.layers[layers - 1].kind) + ")");
    const Outputs expected = run_reference(m, pixels, count);
    for (const Variant& v : variants()) {
      SCOPED_TRACE(v.name());
      expect_same(expected, run_engine(m, pixels, count, v), m.num_classes);
    }
  }
}

TEST(EngineConvTest, ConvPoolDenseMatchesReferenceOverKAndLevels) {
  for (int k = 1; k <= 6; ++k) {
    for (int levels = 1; levels <= 2; ++levels) {
      SCOPED_TRACE("k=" + std::to_string(k) + " levels=" + std::to_string(levels));
      RandomModelSpec spec;
      spec.input_shape = {2, 11, 9};  // odd sizes, two channels
      spec.input_bits_per_pixel = 2;  // channel groups of the encoded input
      spec.convs = {{5, 3, 3, 1, 2, 2}, {7, 2, 3, 1, 0, 1}};
      spec.hidden = {13};
      spec.num_classes = 4;
      spec.k = k;
      spec.levels = levels;
      spec.keep_fraction = 0.4;
      spec.seed = static_cast<uint64_t>(100 + 10 * k + levels);
      check_all_layers(make_random_model(spec), 70, spec.seed);
    }
  }
}

TEST(EngineConvTest, StrideTwoOverlappingPoolAndPoolOfTheInput) {
  RandomModelSpec spec;
  spec.input_shape = {3, 13, 12};
  spec.input_bits_per_pixel = 3;
  // A strided conv whose window does not tile the input, then an overlapping 3x3 / 2 pool.
  spec.convs = {{6, 3, 2, 2, 3, 2}, {9, 1, 1, 1, 0, 1}};
  spec.hidden = {};
  spec.num_classes = 3;
  spec.k = 4;
  spec.levels = 2;
  spec.keep_fraction = 0.5;
  spec.seed = 7;
  check_all_layers(make_random_model(spec), 130, 8);

  // A pool straight on the encoded input (one level, groups of T = 3 channels): a 2x3 / 1 pool
  // turns 14x14 into the 13x12 the model was made for.
  Model pooled = make_random_model(spec);
  pooled.input.shape = {3, 14, 14};
  Layer pool;
  pool.kind = LayerKind::kMaxPool;
  pool.kernel_h = 2;
  pool.kernel_w = 3;
  pool.stride = 1;
  pooled.layers.insert(pooled.layers.begin(), pool);
  validate(pooled);
  check_all_layers(pooled, 65, 9);
}

TEST(EngineConvTest, WideConvBatchesAndThreads) {
  RandomModelSpec spec;
  spec.input_shape = {1, 12, 12};
  spec.convs = {{70, 3, 3, 1, 2, 2}, {20, 3, 3, 1, 0, 1}};  // 70 channels: wide offsets
  spec.hidden = {30};
  spec.num_classes = 10;
  spec.k = 5;
  spec.levels = 2;
  spec.keep_fraction = 0.2;
  spec.seed = 21;
  const Model model = make_random_model(spec);
  const size_t count = 1100;  // more than two 512-image words, not a multiple
  const auto pixels = make_random_pixels(model, static_cast<int>(count), 22);
  const Outputs expected = run_reference(model, pixels, count);
  for (const Variant& v : variants()) {
    SCOPED_TRACE(v.name());
    for (int threads : {1, 2})
      expect_same(expected, run_engine(model, pixels, count, v, threads), model.num_classes);
  }
}

}  // namespace
}  // namespace lutnet::engine
