#pragma once
// Image classification datasets as 8-bit pixels + labels, the form every part of lutnet consumes.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lutnet {

struct Dataset {
  std::string name;
  std::vector<int> shape;  // per image, e.g. {1, 28, 28} or {3, 32, 32} (CHW)
  int num_classes = 0;
  std::vector<uint8_t> pixels;  // size() * image_size() bytes, image-major, CHW within an image
  std::vector<uint8_t> labels;  // one per image, < num_classes

  size_t size() const { return labels.size(); }
  size_t image_size() const;
  const uint8_t* image(size_t i) const { return pixels.data() + i * image_size(); }
};

// Reads an IDX image file (magic 0x00000803) and label file (0x00000801), plain or gzip (detected
// by content, not name). Throws lutnet::Error naming the file and the defect: missing, wrong magic,
// truncated, image/label count mismatch, label out of range.
Dataset read_idx_dataset(const std::filesystem::path& images, const std::filesystem::path& labels,
                         int num_classes = 10);

// Reads CIFAR-10 binary batches (each record: 1 label byte + 3072 pixel bytes, CHW).
Dataset read_cifar10_batches(const std::vector<std::filesystem::path>& batch_files);

// Reads SVHN "cropped digits" MAT files (train_32x32.mat, test_32x32.mat, extra_32x32.mat) with
// libmatio, concatenated in the given order: X is uint8 32x32x3xN, stored column-major as
// X(row, col, channel, image) and returned CHW per image; y holds N labels 1..10, where 10 (the
// digit 0) becomes label 0. Throws lutnet::Error naming the file and the defect: missing, not a
// MAT file, no X or y, X not 32x32x3xN or not uint8, label count mismatch, label out of 1..10.
Dataset read_svhn_mat(const std::vector<std::filesystem::path>& files);

// A seeded random split: `validation_count` images go to the validation set, the rest stay in the
// training set, both in their original relative order.
struct TrainValidationSplit {
  Dataset train;
  Dataset validation;
};
TrainValidationSplit split_validation(const Dataset& full, size_t validation_count, uint64_t seed);

// The first `count` images (all if count >= size).
Dataset take_first(const Dataset& data, size_t count);

enum class DatasetPart { kTrain, kTest };

// Named datasets under a data directory:
//   mnist         DIR/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
//   fashion-mnist DIR/fashion-mnist/ (same names) or Debian's dataset-fashion-mnist files
//   cifar10       DIR/cifar10/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin
//   svhn          DIR/svhn/{train_32x32.mat (+ extra_32x32.mat when present), test_32x32.mat}
// A missing dataset is an Error that says which command fetches it.
Dataset load_named_dataset(const std::string& name, DatasetPart part,
                           const std::filesystem::path& data_dir);

// $LUTNET_DATA_DIR if set, else ./data.
std::filesystem::path default_data_dir();

// A synthetic, learnable dataset for fast end-to-end tests: images of `shape` whose class is
// decided by a fixed random linear rule on the pixels. Same seed, same data.
Dataset make_synthetic_dataset(size_t count, const std::vector<int>& shape, int num_classes,
                               uint64_t seed);

}  // namespace lutnet
