#pragma once
// The images that verify and power stream through a design: a named dataset's test split, or
// --random N uniform random images of the model's input shape.
#include <fmt/format.h>

#include <filesystem>
#include <string>

#include "core/model.hpp"
#include "core/random_model.hpp"
#include "data/dataset.hpp"

namespace lutnet::cli {

inline Dataset load_test_images(const Model& model, const std::string& dataset,
                                const std::string& data_dir, int random) {
  if (random <= 0)
    return load_named_dataset(
        dataset, DatasetPart::kTest,
        data_dir.empty() ? default_data_dir() : std::filesystem::path(data_dir));
  Dataset data;
  data.name = fmt::format("random ({} images)", random);
  data.shape = model.input.shape;
  data.num_classes = model.num_classes;
  data.pixels = make_random_pixels(model, random, 1);
  data.labels.assign(static_cast<size_t>(random), 0);
  return data;
}

}  // namespace lutnet::cli
