// load_named_dataset: file layout under a data directory, fallbacks, the advice in its errors, and
// (when the data is present) the real MNIST / Fashion-MNIST / SVHN files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <matio.h>
#include <stdlib.h>

#include <optional>

#include "data/dataset.hpp"
#include "test_files.hpp"

namespace lutnet {
namespace {

namespace fs = std::filesystem;
using test::error_message;
using test::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Writes a tiny IDX pair named like MNIST's `prefix` files, images gzipped when asked.
void write_mnist_like(const fs::path& dir, const std::string& prefix, uint32_t count,
                      bool gzip_images) {
  fs::create_directories(dir);
  std::vector<uint8_t> labels(count);
  for (uint32_t i = 0; i < count; ++i) labels[i] = static_cast<uint8_t>(i % 10);
  const auto images = test::idx_images_bytes(count, 28, 28, test::indexed_pixels(count, 784));
  if (gzip_images)
    test::write_gzip(dir / (prefix + "-images-idx3-ubyte.gz"), images);
  else
    test::write_bytes(dir / (prefix + "-images-idx3-ubyte"), images);
  test::write_bytes(dir / (prefix + "-labels-idx1-ubyte"), test::idx_labels_bytes(labels));
}

TEST(NamedDatasets, MnistTrainAndTestFilesPlainOrGz) {
  TempDir dir;
  write_mnist_like(dir / "mnist", "train", 5, true);
  write_mnist_like(dir / "mnist", "t10k", 3, false);
  const Dataset train = load_named_dataset("mnist", DatasetPart::kTrain, dir.path());
  const Dataset test = load_named_dataset("mnist", DatasetPart::kTest, dir.path());
  EXPECT_EQ(train.name, "mnist");
  EXPECT_EQ(train.size(), 5u);
  EXPECT_EQ(test.size(), 3u);
  EXPECT_EQ(test.shape, (std::vector<int>{1, 28, 28}));
}

TEST(NamedDatasets, MissingMnistSaysHowToFetchIt) {
  TempDir dir;
  EXPECT_THAT(error_message([&] { load_named_dataset("mnist", DatasetPart::kTrain, dir.path()); }),
              AllOf(HasSubstr((dir / "mnist").string()), HasSubstr("train-"),
                    HasSubstr("run scripts/fetch-data.sh mnist")));
  // Only the labels: still missing, and the test part is named separately.
  write_mnist_like(dir / "mnist", "t10k", 3, false);
  fs::remove(dir / "mnist" / "t10k-images-idx3-ubyte");
  EXPECT_THAT(error_message([&] { load_named_dataset("mnist", DatasetPart::kTest, dir.path()); }),
              AllOf(HasSubstr("mnist test set not found"), HasSubstr("t10k-")));
}

TEST(NamedDatasets, DefectsInsideNamedFilesKeepTheirFileName) {
  TempDir dir;
  write_mnist_like(dir / "mnist", "train", 5, false);
  test::write_bytes(dir / "mnist" / "train-labels-idx1-ubyte", test::idx_labels_bytes({1, 2}));
  EXPECT_THAT(error_message([&] { load_named_dataset("mnist", DatasetPart::kTrain, dir.path()); }),
              AllOf(HasSubstr("train-labels-idx1-ubyte"), HasSubstr("2 labels")));
}

TEST(NamedDatasets, FashionMnistPrefersTheDataDirectory) {
  TempDir dir;
  write_mnist_like(dir / "fashion-mnist", "t10k", 4, true);
  const Dataset test = load_named_dataset("fashion-mnist", DatasetPart::kTest, dir.path());
  EXPECT_EQ(test.name, "fashion-mnist");
  EXPECT_EQ(test.size(), 4u);
}

TEST(NamedDatasets, FashionMnistFallsBackToTheDebianPackage) {
  TempDir dir;
  const fs::path debian = "/usr/share/datasets/fashion-mnist";
  if (fs::exists(debian / "t10k-images-idx3-ubyte.gz")) {
    const Dataset test = load_named_dataset("fashion-mnist", DatasetPart::kTest, dir.path());
    EXPECT_EQ(test.size(), 10000u);
    EXPECT_EQ(test.shape, (std::vector<int>{1, 28, 28}));
  } else {
    EXPECT_THAT(
        error_message([&] { load_named_dataset("fashion-mnist", DatasetPart::kTest, dir.path()); }),
        AllOf(HasSubstr(debian.string()), HasSubstr("run scripts/fetch-data.sh fashion-mnist")));
  }
}

TEST(NamedDatasets, Cifar10LayoutAndMissingAdvice) {
  TempDir dir;
  EXPECT_THAT(error_message([&] { load_named_dataset("cifar10", DatasetPart::kTest, dir.path()); }),
              AllOf(HasSubstr("test_batch.bin"), HasSubstr("by hand"),
                    HasSubstr((dir / "cifar10").string())));
  const fs::path batches = dir / "cifar10" / "cifar-10-batches-bin";
  fs::create_directories(batches);
  std::vector<uint8_t> record(3073, 17);
  record[0] = 4;
  test::write_bytes(batches / "test_batch.bin", record);
  for (int b = 1; b <= 4; ++b)
    test::write_bytes(batches / ("data_batch_" + std::to_string(b) + ".bin"), record);
  EXPECT_THAT(
      error_message([&] { load_named_dataset("cifar10", DatasetPart::kTrain, dir.path()); }),
      HasSubstr("data_batch_5.bin"));
  test::write_bytes(batches / "data_batch_5.bin", record);
  EXPECT_EQ(load_named_dataset("cifar10", DatasetPart::kTrain, dir.path()).size(), 5u);
  const Dataset test = load_named_dataset("cifar10", DatasetPart::kTest, dir.path());
  EXPECT_EQ(test.labels, (std::vector<uint8_t>{4}));
  EXPECT_EQ(test.shape, (std::vector<int>{3, 32, 32}));
}

// A tiny SVHN-like MAT file: `count` grey images, all labelled `label` (1..10).
void write_svhn_like(const fs::path& path, size_t count, double label) {
  fs::create_directories(path.parent_path());
  std::vector<uint8_t> x(count * 3 * 32 * 32, 17);
  std::vector<double> y(count, label);
  size_t x_dims[4] = {32, 32, 3, count};
  size_t y_dims[2] = {count, 1};
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  ASSERT_NE(mat, nullptr) << path;
  for (matvar_t* var : {Mat_VarCreate("X", MAT_C_UINT8, MAT_T_UINT8, 4, x_dims, x.data(), 0),
                        Mat_VarCreate("y", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, y_dims, y.data(), 0)}) {
    EXPECT_EQ(Mat_VarWrite(mat, var, MAT_COMPRESSION_NONE), 0) << path;
    Mat_VarFree(var);
  }
  Mat_Close(mat);
}

TEST(NamedDatasets, SvhnLayoutOptionalExtraAndMissingAdvice) {
  TempDir dir;
  const fs::path svhn = dir / "svhn";
  EXPECT_THAT(
      error_message([&] { load_named_dataset("svhn", DatasetPart::kTrain, dir.path()); }),
      AllOf(HasSubstr("svhn train set not found"), HasSubstr("train_32x32.mat"),
            HasSubstr("optionally extra_32x32.mat"), HasSubstr("test_32x32.mat"),
            HasSubstr("http://ufldl.stanford.edu/housenumbers/"), HasSubstr(svhn.string() + "/")));
  // extra alone is not a training set.
  write_svhn_like(svhn / "extra_32x32.mat", 4, 5);
  EXPECT_THAT(error_message([&] { load_named_dataset("svhn", DatasetPart::kTrain, dir.path()); }),
              HasSubstr((svhn / "train_32x32.mat").string() + " is missing"));
  fs::remove(svhn / "extra_32x32.mat");
  write_svhn_like(svhn / "train_32x32.mat", 2, 10);
  write_svhn_like(svhn / "test_32x32.mat", 3, 4);
  const Dataset train = load_named_dataset("svhn", DatasetPart::kTrain, dir.path());
  EXPECT_EQ(train.name, "svhn");
  EXPECT_EQ(train.shape, (std::vector<int>{3, 32, 32}));
  EXPECT_EQ(train.labels, (std::vector<uint8_t>{0, 0}));
  // extra joins the training set (after train) when present, never the test set.
  write_svhn_like(svhn / "extra_32x32.mat", 4, 5);
  EXPECT_EQ(load_named_dataset("svhn", DatasetPart::kTrain, dir.path()).labels,
            (std::vector<uint8_t>{0, 0, 5, 5, 5, 5}));
  const Dataset test = load_named_dataset("svhn", DatasetPart::kTest, dir.path());
  EXPECT_EQ(test.labels, (std::vector<uint8_t>{4, 4, 4}));
  fs::remove(svhn / "test_32x32.mat");
  EXPECT_THAT(error_message([&] { load_named_dataset("svhn", DatasetPart::kTest, dir.path()); }),
              AllOf(HasSubstr("svhn test set not found"), HasSubstr("test_32x32.mat is missing")));
}

TEST(NamedDatasets, UnknownNameListsKnownOnes) {
  EXPECT_THAT(error_message([] { load_named_dataset("imagenet", DatasetPart::kTrain, "data"); }),
              AllOf(HasSubstr("imagenet"), HasSubstr("mnist, fashion-mnist, cifar10, svhn")));
}

// Sets or unsets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(NamedDatasets, DefaultDataDirHonoursTheEnvironment) {
  {
    ScopedEnv env("LUTNET_DATA_DIR", "/somewhere/else");
    EXPECT_EQ(default_data_dir(), fs::path("/somewhere/else"));
  }
  {
    ScopedEnv env("LUTNET_DATA_DIR", nullptr);
    EXPECT_EQ(default_data_dir(), fs::path("data"));
  }
  {
    ScopedEnv env("LUTNET_DATA_DIR", "");
    EXPECT_EQ(default_data_dir(), fs::path("data"));
  }
}

// The real data, where a developer or CI fetched it (scripts/fetch-data.sh).
fs::path real_data_dir() {
  const char* dir = getenv("LUTNET_DATA_DIR");
  return dir != nullptr && *dir != '\0' ? fs::path(dir) : fs::path(LUTNET_SOURCE_DIR) / "data";
}

void expect_real_mnist_like(const std::string& name) {
  const Dataset train = load_named_dataset(name, DatasetPart::kTrain, real_data_dir());
  const Dataset test = load_named_dataset(name, DatasetPart::kTest, real_data_dir());
  EXPECT_EQ(train.size(), 60000u);
  EXPECT_EQ(test.size(), 10000u);
  EXPECT_EQ(train.shape, (std::vector<int>{1, 28, 28}));
  std::vector<int> counts(10, 0);
  for (uint8_t label : test.labels) ++counts[label];
  for (int c = 0; c < 10; ++c) EXPECT_GT(counts[c], 800) << name << " class " << c;
}

TEST(RealData, MnistLoads) {
  if (!fs::is_directory(real_data_dir() / "mnist"))
    GTEST_SKIP() << "MNIST is absent from " << (real_data_dir() / "mnist")
                 << "; run scripts/fetch-data.sh mnist to include this check";
  expect_real_mnist_like("mnist");
}

TEST(RealData, FashionMnistLoads) {
  if (!fs::is_directory(real_data_dir() / "fashion-mnist") &&
      !fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST is absent (neither " << (real_data_dir() / "fashion-mnist")
                 << " nor the dataset-fashion-mnist package); run scripts/fetch-data.sh "
                    "fashion-mnist to include this check";
  expect_real_mnist_like("fashion-mnist");
}

TEST(RealData, SvhnLoads) {
  const fs::path svhn = real_data_dir() / "svhn";
  if (!fs::exists(svhn / "test_32x32.mat") || !fs::exists(svhn / "train_32x32.mat"))
    GTEST_SKIP() << "SVHN is absent from " << svhn
                 << "; put train_32x32.mat and test_32x32.mat there to include this check";
  const Dataset test = load_named_dataset("svhn", DatasetPart::kTest, real_data_dir());
  EXPECT_EQ(test.size(), 26032u);
  EXPECT_EQ(test.shape, (std::vector<int>{3, 32, 32}));
  std::vector<int> counts(10, 0);
  for (uint8_t label : test.labels) ++counts[label];
  for (int c = 0; c < 10; ++c) EXPECT_GT(counts[c], 1000) << "svhn class " << c;
  const Dataset train = load_named_dataset("svhn", DatasetPart::kTrain, real_data_dir());
  EXPECT_EQ(train.size(), fs::exists(svhn / "extra_32x32.mat") ? 73257u + 531131u : 73257u);
}

}  // namespace
}  // namespace lutnet
