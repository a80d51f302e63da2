#include "data/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <random>

#include "core/error.hpp"

namespace lutnet {
namespace {

// Uniform in [0, bound) from raw 64-bit draws. std::uniform_int_distribution is not used because
// its algorithm differs between standard libraries, and splits must be the same everywhere.
uint64_t uniform_below(std::mt19937_64& rng, uint64_t bound) {
  // Reject the top partial block so that every residue is equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t x = rng();
  while (x >= limit) x = rng();
  return x % bound;
}

Dataset empty_like(const Dataset& data) {
  Dataset out;
  out.name = data.name;
  out.shape = data.shape;
  out.num_classes = data.num_classes;
  return out;
}

void append_image(Dataset& to, const Dataset& from, size_t i) {
  const uint8_t* image = from.image(i);
  to.pixels.insert(to.pixels.end(), image, image + from.image_size());
  to.labels.push_back(from.labels[i]);
}

}  // namespace

size_t Dataset::image_size() const {
  size_t n = 1;
  for (int d : shape) n *= static_cast<size_t>(d);
  return n;
}

TrainValidationSplit split_validation(const Dataset& full, size_t validation_count, uint64_t seed) {
  const size_t n = full.size();
  if (validation_count > n)
    throw Error(fmt::format("{}: cannot split {} validation images from a set of {}", full.name,
                            validation_count, n));
  // Partial Fisher-Yates: the first validation_count entries become a uniform random subset.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < validation_count; ++i)
    std::swap(order[i], order[i + uniform_below(rng, n - i)]);
  std::vector<bool> in_validation(n, false);
  for (size_t i = 0; i < validation_count; ++i) in_validation[order[i]] = true;

  TrainValidationSplit split{empty_like(full), empty_like(full)};
  split.validation.pixels.reserve(validation_count * full.image_size());
  split.train.pixels.reserve((n - validation_count) * full.image_size());
  for (size_t i = 0; i < n; ++i)
    append_image(in_validation[i] ? split.validation : split.train, full, i);
  return split;
}

Dataset take_first(const Dataset& data, size_t count) {
  Dataset out = empty_like(data);
  const size_t n = std::min(count, data.size());
  out.pixels.assign(data.pixels.begin(),
                    data.pixels.begin() + static_cast<std::ptrdiff_t>(n * data.image_size()));
  out.labels.assign(data.labels.begin(), data.labels.begin() + static_cast<std::ptrdiff_t>(n));
  return out;
}

std::filesystem::path default_data_dir() {
  const char* dir = std::getenv("LUTNET_DATA_DIR");
  if (dir != nullptr && *dir != '\0') return dir;
  return "data";
}

}  // namespace lutnet
