// The synthetic dataset: deterministic, balanced enough, and learnable from thresholded pixels.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/dataset.hpp"
#include "test_files.hpp"

namespace lutnet {
namespace {

using test::error_message;
using ::testing::HasSubstr;

uint64_t fnv1a(const std::vector<uint8_t>& bytes, uint64_t hash = 0xcbf29ce484222325) {
  for (uint8_t b : bytes) hash = (hash ^ b) * 0x100000001b3;
  return hash;
}

TEST(SyntheticDataset, SameSeedSameDataOtherSeedOtherData) {
  const Dataset a = make_synthetic_dataset(300, {1, 8, 8}, 10, 5);
  const Dataset b = make_synthetic_dataset(300, {1, 8, 8}, 10, 5);
  const Dataset c = make_synthetic_dataset(300, {1, 8, 8}, 10, 6);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_NE(a.pixels, c.pixels);
  EXPECT_EQ(a.shape, (std::vector<int>{1, 8, 8}));
  EXPECT_EQ(a.num_classes, 10);
  EXPECT_EQ(a.size(), 300u);
  EXPECT_EQ(a.pixels.size(), 300u * 64);
}

TEST(SyntheticDataset, PinnedBytesAreTheSameOnEveryStandardLibrary) {
  // Only std::mt19937_64 (fully specified) draws the data; these must never change silently.
  const Dataset data = make_synthetic_dataset(50, {3, 4, 4}, 4, 99);
  EXPECT_EQ(fnv1a(data.labels, fnv1a(data.pixels)), 3587978893461565259u);
}

TEST(SyntheticDataset, EveryClassOccursAndLabelsAreInRange) {
  const Dataset data = make_synthetic_dataset(2000, {1, 28, 28}, 10, 1);
  std::vector<int> counts(10, 0);
  for (uint8_t label : data.labels) {
    ASSERT_LT(label, 10);
    ++counts[label];
  }
  for (int c = 0; c < 10; ++c) EXPECT_GT(counts[c], 2000 / 10 / 4) << "class " << c;
}

TEST(SyntheticDataset, TinyShapesAndOneClassWork) {
  EXPECT_EQ(make_synthetic_dataset(20, {1}, 3, 1).size(), 20u);
  const Dataset one = make_synthetic_dataset(20, {2, 2}, 1, 1);
  for (uint8_t label : one.labels) EXPECT_EQ(label, 0);
  EXPECT_EQ(make_synthetic_dataset(0, {1, 4, 4}, 2, 1).size(), 0u);
}

TEST(SyntheticDataset, RejectsBadArguments) {
  EXPECT_THAT(error_message([] { make_synthetic_dataset(1, {}, 2, 1); }), HasSubstr("shape"));
  EXPECT_THAT(error_message([] { make_synthetic_dataset(1, {1, 0}, 2, 1); }), HasSubstr("shape"));
  EXPECT_THAT(error_message([] { make_synthetic_dataset(1, {4}, 0, 1); }),
              HasSubstr("num_classes = 0"));
  EXPECT_THAT(error_message([] { make_synthetic_dataset(1, {4}, 257, 1); }),
              HasSubstr("num_classes = 257"));
}

// A multi-class perceptron on +-1 thresholded pixels: if this linear learner generalizes from one
// seed's images to another's, so can a binarized MLP, and the rule is shared across seeds.
double perceptron_test_accuracy(const std::vector<int>& shape, size_t train_count) {
  const Dataset train = make_synthetic_dataset(train_count, shape, 10, 11);
  const Dataset test = make_synthetic_dataset(1000, shape, 10, 12);
  const size_t n = train.image_size();
  std::vector<int> weights(10 * n, 0);
  auto predict = [&](const uint8_t* image) {
    int best = 0;
    long best_score = 0;
    for (int c = 0; c < 10; ++c) {
      long score = 0;
      for (size_t p = 0; p < n; ++p) score += weights[c * n + p] * (image[p] >= 128 ? 1 : -1);
      if (c == 0 || score > best_score) {
        best = c;
        best_score = score;
      }
    }
    return best;
  };
  for (int epoch = 0; epoch < 8; ++epoch)
    for (size_t i = 0; i < train.size(); ++i) {
      const int guess = predict(train.image(i));
      const int truth = train.labels[i];
      if (guess == truth) continue;
      for (size_t p = 0; p < n; ++p) {
        const int x = train.image(i)[p] >= 128 ? 1 : -1;
        weights[truth * n + p] += x;
        weights[guess * n + p] -= x;
      }
    }
  size_t correct = 0;
  for (size_t i = 0; i < test.size(); ++i) correct += predict(test.image(i)) == test.labels[i];
  return static_cast<double>(correct) / static_cast<double>(test.size());
}

TEST(SyntheticDataset, LearnableFromThresholdedPixelsSmallImages) {
  EXPECT_GT(perceptron_test_accuracy({1, 8, 8}, 3000), 0.9);
}

TEST(SyntheticDataset, LearnableFromThresholdedPixelsMnistSizedImages) {
  EXPECT_GT(perceptron_test_accuracy({1, 28, 28}, 3000), 0.9);
}

}  // namespace
}  // namespace lutnet
