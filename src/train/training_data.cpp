#include "train/training_data.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "core/error.hpp"
#include "core/input_encoding.hpp"

namespace lutnet::train {

InputEncoding input_encoding(const TrainConfig& config, const std::vector<int>& shape) {
  InputEncoding e;
  e.shape = shape;
  e.thresholds = thermometer_thresholds(config.input_bits);
  return e;
}

TrainingData load_training_data(const TrainConfig& config) {
  TrainingData d;
  Dataset full, test;
  if (config.dataset == "synthetic" || config.dataset == "synthetic-rgb") {
    // A learnable synthetic task, for tests and smoke runs without downloads: 8x8 grey images,
    // or 32x32x3 ones (CIFAR-10's shape) for conv networks.
    const std::vector<int> shape =
        config.dataset == "synthetic" ? std::vector<int>{1, 8, 8} : std::vector<int>{3, 32, 32};
    const auto all = make_synthetic_dataset(4000, shape, 4, config.seed);
    full = take_first(all, 3000);
    test.name = all.name;
    test.shape = all.shape;
    test.num_classes = all.num_classes;
    test.pixels.assign(all.pixels.begin() + 3000 * all.image_size(), all.pixels.end());
    test.labels.assign(all.labels.begin() + 3000, all.labels.end());
  } else {
    const auto dir =
        config.data_dir.empty() ? default_data_dir() : std::filesystem::path(config.data_dir);
    full = load_named_dataset(config.dataset, DatasetPart::kTrain, dir);
    test = load_named_dataset(config.dataset, DatasetPart::kTest, dir);
  }
  if (config.train_limit > 0) full = take_first(full, config.train_limit);
  if (config.test_limit > 0) test = take_first(test, config.test_limit);
  if (static_cast<size_t>(config.validation_images) >= full.size())
    throw Error(
        fmt::format("config: validation_images = {} leaves no training images (the "
                    "training set has {})",
                    config.validation_images, full.size()));
  auto split = split_validation(full, config.validation_images, config.seed);
  d.train = std::move(split.train);
  d.validation = std::move(split.validation);
  d.test = std::move(test);
  return d;
}

}  // namespace lutnet::train
