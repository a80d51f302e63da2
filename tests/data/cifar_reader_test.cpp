// CIFAR-10 binary batches: record layout, concatenation of batches, and defects.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/dataset.hpp"
#include "test_files.hpp"

namespace lutnet {
namespace {

using test::error_message;
using test::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr size_t kCifarImage = 3 * 32 * 32;

// Records with the given labels; every pixel of record r is r + 1, except pixel j = j mod 251 + r.
std::vector<uint8_t> cifar_records(const std::vector<uint8_t>& labels, uint8_t first_value) {
  std::vector<uint8_t> bytes;
  for (size_t r = 0; r < labels.size(); ++r) {
    bytes.push_back(labels[r]);
    for (size_t j = 0; j < kCifarImage; ++j)
      bytes.push_back(static_cast<uint8_t>(j % 251 + r + first_value));
  }
  return bytes;
}

TEST(CifarReader, ReadsThreeRecordsInOrder) {
  TempDir dir;
  test::write_bytes(dir / "batch.bin", cifar_records({7, 0, 9}, 0));
  const Dataset data = read_cifar10_batches({dir / "batch.bin"});
  EXPECT_EQ(data.shape, (std::vector<int>{3, 32, 32}));
  EXPECT_EQ(data.num_classes, 10);
  EXPECT_EQ(data.labels, (std::vector<uint8_t>{7, 0, 9}));
  ASSERT_EQ(data.pixels.size(), 3 * kCifarImage);
  // The label byte is not part of the image: image r starts right after it, CHW as stored.
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(data.image(r)[0], r);
    EXPECT_EQ(data.image(r)[1024], 1024 % 251 + r);  // first pixel of channel 1
    EXPECT_EQ(data.image(r)[kCifarImage - 1], (kCifarImage - 1) % 251 + r);
  }
}

TEST(CifarReader, ConcatenatesBatchesInTheGivenOrder) {
  TempDir dir;
  test::write_bytes(dir / "a.bin", cifar_records({1, 2}, 0));
  test::write_bytes(dir / "b.bin", cifar_records({3}, 100));
  const Dataset data = read_cifar10_batches({dir / "b.bin", dir / "a.bin"});
  EXPECT_EQ(data.labels, (std::vector<uint8_t>{3, 1, 2}));
  EXPECT_EQ(data.image(0)[0], 100);
  EXPECT_EQ(data.image(1)[0], 0);
}

TEST(CifarReader, TruncatedRecordSaysSizes) {
  TempDir dir;
  auto bytes = cifar_records({1, 2, 3}, 0);
  bytes.resize(bytes.size() - 10);
  test::write_bytes(dir / "cut.bin", bytes);
  EXPECT_THAT(error_message([&] { read_cifar10_batches({dir / "cut.bin"}); }),
              AllOf(HasSubstr("cut.bin"), HasSubstr("truncated"), HasSubstr("multiple of 3073"),
                    HasSubstr("found 9209 bytes")));
  test::write_bytes(dir / "empty.bin", {});
  EXPECT_THAT(error_message([&] { read_cifar10_batches({dir / "empty.bin"}); }),
              AllOf(HasSubstr("empty.bin"), HasSubstr("truncated"), HasSubstr("found 0 bytes")));
}

TEST(CifarReader, LabelOutOfRange) {
  TempDir dir;
  test::write_bytes(dir / "bad.bin", cifar_records({1, 10, 3}, 0));
  EXPECT_THAT(error_message([&] { read_cifar10_batches({dir / "bad.bin"}); }),
              AllOf(HasSubstr("bad.bin"), HasSubstr("label 10 in record 1"),
                    HasSubstr("out of range 0..9")));
}

TEST(CifarReader, MissingFileAndNoFiles) {
  TempDir dir;
  EXPECT_THAT(error_message([&] { read_cifar10_batches({dir / "data_batch_9.bin"}); }),
              AllOf(HasSubstr("data_batch_9.bin"), HasSubstr("not found")));
  EXPECT_THAT(error_message([&] { read_cifar10_batches({}); }), HasSubstr("no batch files"));
}

}  // namespace
}  // namespace lutnet
