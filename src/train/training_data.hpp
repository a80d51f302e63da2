#pragma once
// The data a training config names: its datasets, split for validation, and its input encoding.
// Free of LibTorch, so that the CLI and the sweep compile without it.
#include <vector>

#include "core/model.hpp"
#include "data/dataset.hpp"
#include "train/config.hpp"

namespace lutnet::train {

// Loads the datasets a config names, with the validation split held out of the training set.
struct TrainingData {
  Dataset train, validation, test;
};
TrainingData load_training_data(const TrainConfig& config);

// Input encoding of a config for a dataset shape.
InputEncoding input_encoding(const TrainConfig& config, const std::vector<int>& shape);

}  // namespace lutnet::train
