// SVHN MAT files: X's column-major layout turned CHW, label 10 -> 0, concatenation, and defects.
// The files are written with libmatio, as MATLAB's save would lay them out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <matio.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "data/dataset.hpp"
#include "test_files.hpp"

namespace lutnet {
namespace {

namespace fs = std::filesystem;
using test::error_message;
using test::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr size_t kSvhnImage = 3 * 32 * 32;

struct MatVariable {
  std::string name;
  matio_classes class_type;
  matio_types data_type;
  std::vector<size_t> dims;
  std::vector<uint8_t> bytes;  // the elements, column-major
};

template <typename T>
MatVariable variable(const std::string& name, matio_classes class_type, matio_types data_type,
                     std::vector<size_t> dims, const std::vector<T>& values) {
  MatVariable var{name, class_type, data_type, std::move(dims), {}};
  var.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(var.bytes.data(), values.data(), var.bytes.size());
  return var;
}

void write_mat(const fs::path& path, std::vector<MatVariable> vars,
               matio_compression compression = MAT_COMPRESSION_NONE, mat_ft version = MAT_FT_MAT5) {
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, version);
  ASSERT_NE(mat, nullptr) << path;
  for (auto& var : vars) {
    matvar_t* matvar =
        Mat_VarCreate(var.name.c_str(), var.class_type, var.data_type,
                      static_cast<int>(var.dims.size()), var.dims.data(), var.bytes.data(), 0);
    ASSERT_NE(matvar, nullptr) << var.name;
    EXPECT_EQ(Mat_VarWrite(mat, matvar, compression), 0) << var.name;
    Mat_VarFree(matvar);
  }
  Mat_Close(mat);
}

// A recognizable pixel value: X(row, col, channel, image) = 7 row + 3 col + 50 channel + 11 image
// (mod 256), which differs from its transpose wherever row != col.
uint8_t pattern(size_t row, size_t col, size_t channel, size_t image) {
  return static_cast<uint8_t>(7 * row + 3 * col + 50 * channel + 11 * image);
}

// X for `count` images in MATLAB's column-major order, filled with `pattern` from `first_image`.
std::vector<uint8_t> column_major_x(size_t count, size_t first_image = 0) {
  std::vector<uint8_t> x(count * kSvhnImage);
  for (size_t i = 0; i < count; ++i)
    for (size_t c = 0; c < 3; ++c)
      for (size_t col = 0; col < 32; ++col)
        for (size_t row = 0; row < 32; ++row)
          x[row + 32 * (col + 32 * (c + 3 * i))] = pattern(row, col, c, first_image + i);
  return x;
}

MatVariable images(size_t count, size_t first_image = 0) {
  return variable("X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 3, count},
                  column_major_x(count, first_image));
}

MatVariable labels(const std::vector<double>& y) {
  return variable("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {y.size(), 1}, y);
}

TEST(SvhnReader, PixelsBecomeChwAndLabelTenBecomesZero) {
  TempDir dir;
  write_mat(dir / "train_32x32.mat", {images(3), labels({10, 1, 9})});
  const Dataset data = read_svhn_mat({dir / "train_32x32.mat"});
  EXPECT_EQ(data.name, "svhn");
  EXPECT_EQ(data.shape, (std::vector<int>{3, 32, 32}));
  EXPECT_EQ(data.num_classes, 10);
  EXPECT_EQ(data.image_size(), kSvhnImage);
  EXPECT_EQ(data.labels, (std::vector<uint8_t>{0, 1, 9}));
  ASSERT_EQ(data.pixels.size(), 3 * kSvhnImage);
  size_t wrong = 0;
  for (size_t i = 0; i < 3; ++i)
    for (size_t c = 0; c < 3; ++c)
      for (size_t row = 0; row < 32; ++row)
        for (size_t col = 0; col < 32; ++col)
          wrong += data.image(i)[(c * 32 + row) * 32 + col] != pattern(row, col, c, i);
  EXPECT_EQ(wrong, 0u);
}

TEST(SvhnReader, OneLitPixelLandsAtChannelRowCol) {
  TempDir dir;
  // Image 1 is dark except X(row 1, col 2, channel 2) (0-based) = 200.
  std::vector<uint8_t> x(2 * kSvhnImage, 0);
  x[1 + 32 * (2 + 32 * (2 + 3 * 1))] = 200;
  write_mat(dir / "one.mat",
            {variable("X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 3, 2}, x), labels({3, 4})});
  const Dataset data = read_svhn_mat({dir / "one.mat"});
  std::vector<uint8_t> expected(2 * kSvhnImage, 0);
  expected[kSvhnImage + (2 * 32 + 1) * 32 + 2] = 200;
  EXPECT_EQ(data.pixels, expected);
}

TEST(SvhnReader, CompressedFileUint8RowLabelsAndASingleImage) {
  TempDir dir;
  // MATLAB drops X's trailing singleton dimension for one image; y may be uint8 and 1xN.
  write_mat(dir / "single.mat",
            {variable("X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 3}, column_major_x(1)),
             variable("y", MAT_C_UINT8, MAT_T_UINT8, {1, 1}, std::vector<uint8_t>{10})},
            MAT_COMPRESSION_ZLIB);
  write_mat(
      dir / "zipped.mat",
      {images(2, 5), variable("y", MAT_C_UINT8, MAT_T_UINT8, {1, 2}, std::vector<uint8_t>{2, 10})},
      MAT_COMPRESSION_ZLIB);
  const Dataset data = read_svhn_mat({dir / "single.mat", dir / "zipped.mat"});
  EXPECT_EQ(data.labels, (std::vector<uint8_t>{0, 2, 0}));
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data.image(0)[(1 * 32 + 4) * 32 + 9], pattern(4, 9, 1, 0));
  EXPECT_EQ(data.image(2)[(2 * 32 + 31) * 32 + 0], pattern(31, 0, 2, 6));
}

// MATLAB's -v7.3 files are HDF5; Debian's libmatio is built with HDF5 and reads them too.
TEST(SvhnReader, ReadsV73Files) {
  TempDir dir;
  write_mat(dir / "v73.mat", {images(2, 3), labels({10, 6})}, MAT_COMPRESSION_NONE, MAT_FT_MAT73);
  const Dataset data = read_svhn_mat({dir / "v73.mat"});
  EXPECT_EQ(data.labels, (std::vector<uint8_t>{0, 6}));
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data.image(1)[(2 * 32 + 5) * 32 + 30], pattern(5, 30, 2, 4));
}

TEST(SvhnReader, ConcatenatesFilesInTheGivenOrder) {
  TempDir dir;
  write_mat(dir / "a.mat", {labels({1, 2}), images(2, 0)});  // y first: order inside is free
  write_mat(dir / "b.mat", {images(1, 40), labels({7})});
  const Dataset data = read_svhn_mat({dir / "b.mat", dir / "a.mat"});
  EXPECT_EQ(data.labels, (std::vector<uint8_t>{7, 1, 2}));
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data.image(0)[33], pattern(1, 1, 0, 40));
  EXPECT_EQ(data.image(1)[33], pattern(1, 1, 0, 0));
  EXPECT_EQ(data.image(2)[kSvhnImage - 1], pattern(31, 31, 2, 1));
}

TEST(SvhnReader, MissingFileDirectoryAndNoFiles) {
  TempDir dir;
  EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "test_32x32.mat"}); }),
              AllOf(HasSubstr("test_32x32.mat"), HasSubstr("not found")));
  EXPECT_THAT(error_message([&] { read_svhn_mat({dir.path()}); }), HasSubstr("is a directory"));
  EXPECT_THAT(error_message([] { read_svhn_mat({}); }), HasSubstr("no .mat files"));
  if (geteuid() != 0) {  // root reads anything
    write_mat(dir / "locked.mat", {images(1), labels({1})});
    fs::permissions(dir / "locked.mat", fs::perms::none);
    EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "locked.mat"}); }),
                AllOf(HasSubstr("locked.mat"), HasSubstr("cannot open")));
  }
}

TEST(SvhnReader, NotAMatFile) {
  TempDir dir;
  test::write_bytes(dir / "text.mat", std::vector<uint8_t>(300, 'a'));
  EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "text.mat"}); }),
              AllOf(HasSubstr("text.mat"), HasSubstr("not a MATLAB MAT file")));
  test::write_bytes(dir / "empty.mat", {});
  EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "empty.mat"}); }),
              AllOf(HasSubstr("empty.mat"), HasSubstr("not a MATLAB MAT file")));
}

// matio alone reads a cut-off file as if it were whole.
TEST(SvhnReader, TruncatedFile) {
  TempDir dir;
  for (const auto compression : {MAT_COMPRESSION_NONE, MAT_COMPRESSION_ZLIB}) {
    write_mat(dir / "cut.mat", {labels({1, 2, 3}), images(3)}, compression);
    fs::resize_file(dir / "cut.mat", fs::file_size(dir / "cut.mat") / 2);
    EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "cut.mat"}); }),
                AllOf(HasSubstr("cut.mat"), HasSubstr("truncated")));
  }
}

TEST(SvhnReader, MissingVariable) {
  TempDir dir;
  write_mat(dir / "no_x.mat", {labels({1})});
  EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "no_x.mat"}); }),
              AllOf(HasSubstr("no_x.mat"), HasSubstr("no variable X")));
  write_mat(dir / "no_y.mat", {images(1)});
  EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "no_y.mat"}); }),
              AllOf(HasSubstr("no_y.mat"), HasSubstr("no variable y")));
}

TEST(SvhnReader, WrongDimsOrClass) {
  TempDir dir;
  write_mat(dir / "gray.mat",
            {variable("X", MAT_C_UINT8, MAT_T_UINT8, {32, 32, 1, 2}, std::vector<uint8_t>(2048)),
             labels({1, 2})});
  EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "gray.mat"}); }),
              AllOf(HasSubstr("gray.mat"), HasSubstr("X has dims 32x32x1x2"),
                    HasSubstr("expected 32x32x3xN")));
  write_mat(dir / "flat.mat",
            {variable("X", MAT_C_UINT8, MAT_T_UINT8, {3072, 1}, std::vector<uint8_t>(3072)),
             labels({1})});
  EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "flat.mat"}); }),
              HasSubstr("X has dims 3072x1"));
  write_mat(dir / "double.mat", {variable("X", MAT_C_DOUBLE, MAT_T_DOUBLE, {32, 32, 3, 1},
                                          std::vector<double>(kSvhnImage)),
                                 labels({1})});
  EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "double.mat"}); }),
              AllOf(HasSubstr("double.mat"), HasSubstr("X is double, expected uint8")));
  write_mat(dir / "y_matrix.mat", {images(4), variable("y", MAT_C_DOUBLE, MAT_T_DOUBLE, {2, 2},
                                                       std::vector<double>{1, 2, 3, 4})});
  EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "y_matrix.mat"}); }),
              HasSubstr("y has dims 2x2, expected Nx1"));
}

TEST(SvhnReader, LabelCountMismatch) {
  TempDir dir;
  write_mat(dir / "short.mat", {images(3), labels({1, 2})});
  EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "short.mat"}); }),
              AllOf(HasSubstr("short.mat"), HasSubstr("y holds 2 labels but X holds 3 images")));
}

TEST(SvhnReader, LabelOutOfRange) {
  TempDir dir;
  const std::vector<std::pair<double, std::string>> cases = {{0, "label 0 of image 1"},
                                                             {11, "label 11 of image 1"},
                                                             {2.5, "label 2.5 of image 1"},
                                                             {-1, "label -1 of image 1"}};
  for (const auto& [bad, message] : cases) {
    write_mat(dir / "bad.mat", {images(3), labels({1, bad, 3})});
    EXPECT_THAT(error_message([&] { read_svhn_mat({dir / "bad.mat"}); }),
                AllOf(HasSubstr("bad.mat"), HasSubstr(message), HasSubstr("out of range 1..10")));
  }
}

}  // namespace
}  // namespace lutnet
