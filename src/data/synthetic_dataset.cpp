// A synthetic dataset that a small binarized network can learn well, for fast end-to-end tests.
//
// Each image has up to 64 hidden random bits; every pixel copies one of them (a fixed random
// assignment, each bit used at least once) as its thresholded value: pixel >= 128 exactly when its
// bit is 1, the rest of the byte random, so every pixel is uniform on 0..255 by itself. The label
// is the first maximum over num_classes fixed +-1 linear functions of the hidden bits, so it is a
// linear-argmax function of the thresholded pixels. Copies make large images easy to learn from a
// few thousand examples. The rule depends only on (shape, num_classes), never on the seed, so a
// training set and a test set drawn with different seeds follow the same rule. Images whose best
// score is tied are redrawn (a few times at most) so that labels have a margin.
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <utility>

#include "core/error.hpp"
#include "data/dataset.hpp"

namespace lutnet {
namespace {

constexpr uint64_t kRuleSeed = 0x6c75746e65742d31;  // fixed: the rule must not depend on the seed
constexpr size_t kMaxHiddenBits = 64;
constexpr int kMaxRedraws = 16;

struct LinearRule {
  size_t num_bits = 0;
  std::vector<uint8_t> bit_of_pixel;  // which hidden bit each pixel copies
  std::vector<int8_t> weights;        // num_classes x num_bits, +-1
};

LinearRule make_rule(size_t image_size, int num_classes) {
  std::mt19937_64 rng(kRuleSeed);
  LinearRule rule;
  rule.num_bits = std::min(image_size, kMaxHiddenBits);
  // A random permutation gives the first num_bits pixels one bit each; the others copy any bit.
  // Plain modulo draws: the bounds are tiny next to 2^64, so the bias is nil.
  std::vector<size_t> order(image_size);
  for (size_t i = 0; i < image_size; ++i) order[i] = i;
  for (size_t i = 0; i + 1 < image_size; ++i)
    std::swap(order[i], order[i + rng() % (image_size - i)]);
  rule.bit_of_pixel.resize(image_size);
  for (size_t i = 0; i < image_size; ++i)
    rule.bit_of_pixel[order[i]] =
        static_cast<uint8_t>(i < rule.num_bits ? i : rng() % rule.num_bits);
  rule.weights.resize(static_cast<size_t>(num_classes) * rule.num_bits);
  for (auto& w : rule.weights) w = (rng() & 1) != 0 ? 1 : -1;
  return rule;
}

// The label, and whether it won alone (no other class reached the same score).
std::pair<int, bool> classify(const LinearRule& rule, int num_classes, uint64_t bits) {
  int best = 0;
  int64_t best_score = 0;
  bool unique = true;
  for (int c = 0; c < num_classes; ++c) {
    int64_t score = 0;
    for (size_t i = 0; i < rule.num_bits; ++i)
      score += rule.weights[static_cast<size_t>(c) * rule.num_bits + i] *
               (((bits >> i) & 1) != 0 ? 1 : -1);
    if (c == 0 || score > best_score) {
      best = c;
      best_score = score;
      unique = true;
    } else if (score == best_score) {
      unique = false;
    }
  }
  return {best, unique};
}

}  // namespace

Dataset make_synthetic_dataset(size_t count, const std::vector<int>& shape, int num_classes,
                               uint64_t seed) {
  if (shape.empty()) throw Error("synthetic dataset: shape is empty");
  for (int d : shape)
    if (d < 1 || d > 65536)
      throw Error(fmt::format("synthetic dataset: shape entry {} is out of range 1..65536", d));
  if (num_classes < 1 || num_classes > 256)
    throw Error(
        fmt::format("synthetic dataset: num_classes = {} is out of range 1..256", num_classes));
  Dataset data;
  data.name = "synthetic";
  data.shape = shape;
  data.num_classes = num_classes;
  const size_t image_size = data.image_size();
  if (image_size > (size_t{1} << 24) || count > (size_t{1} << 34) / image_size)
    throw Error(
        fmt::format("synthetic dataset: {} images of {} pixels is too large", count, image_size));

  const LinearRule rule = make_rule(image_size, num_classes);
  std::mt19937_64 rng(seed);
  data.pixels.resize(count * image_size);
  data.labels.resize(count);
  for (size_t n = 0; n < count; ++n) {
    uint64_t bits = 0;
    for (int attempt = 0;; ++attempt) {
      bits = rng();
      const auto [label, unique] = classify(rule, num_classes, bits);
      // A tiny rule may never give a unique winner; then the first maximum stands.
      if (unique || attempt + 1 == kMaxRedraws) {
        data.labels[n] = static_cast<uint8_t>(label);
        break;
      }
    }
    uint8_t* image = data.pixels.data() + n * image_size;
    uint64_t noise = 0;
    for (size_t p = 0; p < image_size; ++p, noise >>= 8) {
      if (p % 8 == 0) noise = rng();
      const bool bit = ((bits >> rule.bit_of_pixel[p]) & 1) != 0;
      image[p] = static_cast<uint8_t>((bit ? 128 : 0) | (noise & 127));
    }
  }
  return data;
}

}  // namespace lutnet
