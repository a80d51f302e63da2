// IDX reading: plain and gzip round trips, and one clear one-line error per kind of defect.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "data/dataset.hpp"
#include "test_files.hpp"

namespace lutnet {
namespace {

using test::error_message;
using test::idx_images_bytes;
using test::idx_labels_bytes;
using test::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

class IdxReaderTest : public ::testing::Test {
 protected:
  // Four 3x2 images, labels 0..3.
  const std::vector<uint8_t> pixels_ = test::indexed_pixels(4, 6);
  const std::vector<uint8_t> labels_ = {3, 0, 9, 1};
  TempDir dir_;

  std::filesystem::path write_images(const std::string& name, bool gzip = false) {
    const auto path = dir_ / name;
    const auto bytes = idx_images_bytes(4, 3, 2, pixels_);
    gzip ? test::write_gzip(path, bytes) : test::write_bytes(path, bytes);
    return path;
  }
  std::filesystem::path write_labels(const std::string& name, bool gzip = false) {
    const auto path = dir_ / name;
    const auto bytes = idx_labels_bytes(labels_);
    gzip ? test::write_gzip(path, bytes) : test::write_bytes(path, bytes);
    return path;
  }
  void expect_original(const Dataset& data) {
    EXPECT_EQ(data.shape, (std::vector<int>{1, 3, 2}));
    EXPECT_EQ(data.num_classes, 10);
    EXPECT_EQ(data.size(), 4u);
    EXPECT_EQ(data.image_size(), 6u);
    EXPECT_EQ(data.pixels, pixels_);
    EXPECT_EQ(data.labels, labels_);
    EXPECT_EQ(data.image(2)[0], pixels_[12]);
  }
};

TEST_F(IdxReaderTest, ReadsPlainFiles) {
  expect_original(read_idx_dataset(write_images("img"), write_labels("lbl")));
}

TEST_F(IdxReaderTest, ReadsGzipFilesDetectedByContentNotName) {
  // Gzip without a .gz name, and a plain file with one: the magic bytes decide.
  expect_original(read_idx_dataset(write_images("img", true), write_labels("lbl.gz", false)));
  expect_original(read_idx_dataset(write_images("img.gz", true), write_labels("lbl.gz", true)));
}

TEST_F(IdxReaderTest, ReadsAnEmptySet) {
  test::write_bytes(dir_ / "img", idx_images_bytes(0, 28, 28, {}));
  test::write_bytes(dir_ / "lbl", idx_labels_bytes({}));
  const Dataset data = read_idx_dataset(dir_ / "img", dir_ / "lbl");
  EXPECT_EQ(data.size(), 0u);
  EXPECT_EQ(data.shape, (std::vector<int>{1, 28, 28}));
}

TEST_F(IdxReaderTest, MissingFileNamesThePath) {
  const auto labels = write_labels("lbl");
  EXPECT_THAT(error_message([&] { read_idx_dataset(dir_ / "nope-images", labels); }),
              AllOf(HasSubstr("nope-images"), HasSubstr("not found")));
  const auto images = write_images("img");
  EXPECT_THAT(error_message([&] { read_idx_dataset(images, dir_ / "nope-labels"); }),
              AllOf(HasSubstr("nope-labels"), HasSubstr("not found")));
}

TEST_F(IdxReaderTest, WrongMagicSaysExpectedAndFound) {
  // Images and labels swapped: each file has the other's magic.
  const auto images = write_images("img");
  const auto labels = write_labels("lbl");
  EXPECT_THAT(error_message([&] { read_idx_dataset(labels, images); }),
              AllOf(HasSubstr("lbl"), HasSubstr("wrong magic"), HasSubstr("expected 0x00000803"),
                    HasSubstr("found 0x00000801")));
  EXPECT_THAT(error_message([&] { read_idx_dataset(images, images); }),
              AllOf(HasSubstr("img"), HasSubstr("wrong magic"), HasSubstr("expected 0x00000801"),
                    HasSubstr("found 0x00000803")));
}

TEST_F(IdxReaderTest, TruncatedHeader) {
  test::write_bytes(dir_ / "short", {0x00, 0x00});
  EXPECT_THAT(error_message([&] { read_idx_dataset(dir_ / "short", write_labels("lbl")); }),
              AllOf(HasSubstr("short"), HasSubstr("truncated"), HasSubstr("found 2")));
  auto header = idx_images_bytes(4, 3, 2, {});
  header.resize(10);
  test::write_bytes(dir_ / "half-header", header);
  EXPECT_THAT(error_message([&] { read_idx_dataset(dir_ / "half-header", write_labels("lbl")); }),
              AllOf(HasSubstr("half-header"), HasSubstr("truncated"),
                    HasSubstr("expected at least 16"), HasSubstr("found 10")));
}

TEST_F(IdxReaderTest, TruncatedPayloadSaysExpectedAndFoundBytes) {
  auto bytes = idx_images_bytes(4, 3, 2, pixels_);
  bytes.resize(bytes.size() - 5);  // 16 + 24 - 5 = 35
  for (bool gzip : {false, true}) {
    const auto path = dir_ / (gzip ? "cut-gz" : "cut");
    gzip ? test::write_gzip(path, bytes) : test::write_bytes(path, bytes);
    EXPECT_THAT(error_message([&] { read_idx_dataset(path, write_labels("lbl")); }),
                AllOf(HasSubstr(path.string()), HasSubstr("truncated"),
                      HasSubstr("expected 40 bytes"), HasSubstr("found 35")));
  }
  auto labels = idx_labels_bytes(labels_);
  labels.pop_back();
  test::write_bytes(dir_ / "cut-labels", labels);
  EXPECT_THAT(error_message([&] { read_idx_dataset(write_images("img"), dir_ / "cut-labels"); }),
              AllOf(HasSubstr("cut-labels"), HasSubstr("truncated"), HasSubstr("expected 12 bytes"),
                    HasSubstr("found 11")));
}

TEST_F(IdxReaderTest, HeaderClaimingHugeCountFailsAsTruncatedWithoutAllocating) {
  test::write_bytes(dir_ / "huge", idx_images_bytes(0xffffffffu, 4096, 4096, pixels_));
  EXPECT_THAT(error_message([&] { read_idx_dataset(dir_ / "huge", write_labels("lbl")); }),
              AllOf(HasSubstr("huge"), HasSubstr("truncated")));
}

TEST_F(IdxReaderTest, ImplausibleImageSize) {
  test::write_bytes(dir_ / "zero-rows", idx_images_bytes(4, 0, 2, {}));
  EXPECT_THAT(error_message([&] { read_idx_dataset(dir_ / "zero-rows", write_labels("lbl")); }),
              AllOf(HasSubstr("zero-rows"), HasSubstr("image size 0x2")));
}

TEST_F(IdxReaderTest, TrailingBytesAreADefect) {
  auto bytes = idx_images_bytes(4, 3, 2, pixels_);
  bytes.push_back(0);
  test::write_bytes(dir_ / "long", bytes);
  EXPECT_THAT(error_message([&] { read_idx_dataset(dir_ / "long", write_labels("lbl")); }),
              AllOf(HasSubstr("long"), HasSubstr("unexpected data after the 40 bytes")));
}

TEST_F(IdxReaderTest, CountMismatchNamesBothFiles) {
  test::write_bytes(dir_ / "three-labels", idx_labels_bytes({1, 2, 3}));
  EXPECT_THAT(error_message([&] { read_idx_dataset(write_images("img"), dir_ / "three-labels"); }),
              AllOf(HasSubstr("three-labels"), HasSubstr("3 labels"), HasSubstr("img"),
                    HasSubstr("4 images")));
}

TEST_F(IdxReaderTest, LabelOutOfRange) {
  test::write_bytes(dir_ / "bad-labels", idx_labels_bytes({1, 2, 10, 3}));
  EXPECT_THAT(error_message([&] { read_idx_dataset(write_images("img"), dir_ / "bad-labels"); }),
              AllOf(HasSubstr("bad-labels"), HasSubstr("label 10 at index 2"),
                    HasSubstr("out of range 0..9")));
  // The class count is a parameter: with 11 classes the same file is fine.
  EXPECT_EQ(read_idx_dataset(write_images("img"), dir_ / "bad-labels", 11).labels[2], 10);
  EXPECT_THAT(error_message([&] { read_idx_dataset(write_images("img"), write_labels("l"), 0); }),
              HasSubstr("num_classes = 0"));
}

TEST_F(IdxReaderTest, GzipCutShortIsCorrupt) {
  const auto whole = write_images("whole.gz", true);
  auto bytes = test::read_bytes(whole);
  bytes.resize(bytes.size() / 2);
  test::write_bytes(dir_ / "cut.gz", bytes);
  EXPECT_THAT(error_message([&] { read_idx_dataset(dir_ / "cut.gz", write_labels("lbl")); }),
              AllOf(HasSubstr("cut.gz"), HasSubstr("gzip data is corrupt")));
}

TEST_F(IdxReaderTest, GzipWithDamagedBytesIsCorrupt) {
  // Damage in the deflate data or in the CRC trailer: zlib must notice either way.
  const auto bytes = test::read_bytes(write_images("whole.gz", true));
  for (size_t at : {size_t{12}, bytes.size() / 2, bytes.size() - 6}) {
    auto damaged = bytes;
    damaged[at] ^= 0x5a;
    const auto path = dir_ / ("damaged-" + std::to_string(at) + ".gz");
    test::write_bytes(path, damaged);
    EXPECT_THAT(error_message([&] { read_idx_dataset(path, write_labels("lbl")); }),
                AllOf(HasSubstr(path.filename().string()), HasSubstr("gzip")))
        << "damage at byte " << at;
  }
}

TEST_F(IdxReaderTest, DirectoryInsteadOfFile) {
  EXPECT_THAT(error_message([&] { read_idx_dataset(dir_.path(), write_labels("lbl")); }),
              AllOf(HasSubstr(dir_.path().string()), HasSubstr("directory")));
}

}  // namespace
}  // namespace lutnet
