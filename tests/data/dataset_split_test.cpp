// split_validation and take_first: deterministic, complete, order-preserving.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "data/dataset.hpp"
#include "test_files.hpp"

namespace lutnet {
namespace {

using test::error_message;
using ::testing::HasSubstr;

// n images of 2 pixels whose first pixel is the image's index (n <= 256) and label = index mod 10.
Dataset numbered_dataset(size_t n) {
  Dataset data;
  data.name = "numbered";
  data.shape = {1, 1, 2};
  data.num_classes = 10;
  for (size_t i = 0; i < n; ++i) {
    data.pixels.push_back(static_cast<uint8_t>(i));
    data.pixels.push_back(static_cast<uint8_t>(255 - i));
    data.labels.push_back(static_cast<uint8_t>(i % 10));
  }
  return data;
}

std::vector<int> indices_of(const Dataset& part) {
  std::vector<int> out;
  for (size_t i = 0; i < part.size(); ++i) {
    out.push_back(part.image(i)[0]);
    // Image and label travel together.
    EXPECT_EQ(part.image(i)[1], 255 - part.image(i)[0]);
    EXPECT_EQ(part.labels[i], part.image(i)[0] % 10);
  }
  return out;
}

TEST(SplitValidation, CountsDisjointCompleteAndOrdered) {
  const Dataset full = numbered_dataset(200);
  const auto split = split_validation(full, 37, 1234);
  EXPECT_EQ(split.validation.size(), 37u);
  EXPECT_EQ(split.train.size(), 163u);
  for (const Dataset* part : {&split.train, &split.validation}) {
    EXPECT_EQ(part->shape, full.shape);
    EXPECT_EQ(part->num_classes, full.num_classes);
    EXPECT_EQ(part->pixels.size(), part->size() * full.image_size());
  }
  const auto train = indices_of(split.train);
  const auto validation = indices_of(split.validation);
  EXPECT_TRUE(std::is_sorted(train.begin(), train.end()));
  EXPECT_TRUE(std::is_sorted(validation.begin(), validation.end()));
  std::set<int> all(train.begin(), train.end());
  for (int v : validation) EXPECT_TRUE(all.insert(v).second) << v << " is in both parts";
  EXPECT_EQ(all.size(), 200u);
}

TEST(SplitValidation, SameSeedSameSplitOtherSeedOtherSplit) {
  const Dataset full = numbered_dataset(100);
  const auto a = split_validation(full, 20, 7);
  const auto b = split_validation(full, 20, 7);
  const auto c = split_validation(full, 20, 8);
  EXPECT_EQ(a.validation.pixels, b.validation.pixels);
  EXPECT_EQ(a.train.pixels, b.train.pixels);
  EXPECT_NE(a.validation.pixels, c.validation.pixels);
}

TEST(SplitValidation, PinnedResultIsTheSameOnEveryStandardLibrary) {
  // Only std::mt19937_64 (fully specified) and our own Fisher-Yates decide the split, so these
  // indices must never change; if they do, published validation numbers change with them.
  const auto split = split_validation(numbered_dataset(50), 6, 42);
  EXPECT_EQ(indices_of(split.validation), (std::vector<int>{2, 6, 12, 28, 39, 49}));
}

TEST(SplitValidation, EdgeCounts) {
  const Dataset full = numbered_dataset(10);
  EXPECT_EQ(split_validation(full, 0, 1).train.size(), 10u);
  EXPECT_EQ(split_validation(full, 10, 1).validation.size(), 10u);
  EXPECT_EQ(split_validation(full, 10, 1).train.size(), 0u);
  EXPECT_THAT(error_message([&] { split_validation(full, 11, 1); }),
              HasSubstr("cannot split 11 validation images from a set of 10"));
}

TEST(TakeFirst, TakesAPrefixOrEverything) {
  const Dataset full = numbered_dataset(10);
  const Dataset three = take_first(full, 3);
  EXPECT_EQ(indices_of(three), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(three.shape, full.shape);
  EXPECT_EQ(three.name, full.name);
  EXPECT_EQ(take_first(full, 10).pixels, full.pixels);
  EXPECT_EQ(take_first(full, 1000).labels, full.labels);
  EXPECT_EQ(take_first(full, 0).size(), 0u);
}

}  // namespace
}  // namespace lutnet
