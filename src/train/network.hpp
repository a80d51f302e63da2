#pragma once
// The trainable LUTNet/ReBNet MLP (DESIGN.md §2). Plain tensors rather than torch::nn modules, so
// that the structure can change between stages (pruning, logic expansion) and every tensor has a
// stable name in checkpoints.
#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "train/lut_dense_function.hpp"

namespace lutnet::train {

// Batch norm's variance epsilon; export folds it into the thresholds, so both use this one.
inline constexpr double kBatchNormEpsilon = 1e-4;

// A seeded Fisher-Yates permutation of 0..n-1, independent of the standard library's shuffle, so
// runs are reproducible everywhere.
std::vector<int64_t> seeded_permutation(int64_t n, std::mt19937_64& rng);

enum class WeightMode { kRealClipped, kBinary };  // dense layers: |g|*clip(w) or |g|*sign(w)
enum class TableMode { kReal, kBinary };          // LUT layers: clip(c) or sign(c)

struct Layer {
  int64_t num_inputs = 0;
  int64_t num_outputs = 0;
  int64_t input_levels = 1;
  bool is_output = false;

  torch::Tensor weight;  // [out, in] latent real weights, kept in [-1, 1]
  torch::Tensor mask;    // [out, in] 1 = kept connection
  torch::Tensor gamma;   // [] learned scale, used as |gamma|

  bool is_lut = false;   // after logic expansion
  torch::Tensor tables;  // [input_levels, C, 2^K], kept in [-1, 1]
  LutWiring wiring;

  // Hidden layers: batch norm and the magnitudes of the residual-sign activation that follows.
  torch::Tensor bn_weight, bn_bias, running_mean, running_var;
  torch::Tensor level_magnitudes;  // [levels] m_0, m_1 (learned)
  torch::Tensor level_ratios;      // [levels] fixed m_l/m_0 once frozen (undefined before)
};

// Per-layer result of a forward pass, for checks against the exported model.
struct ForwardTrace {
  std::vector<torch::Tensor> pre_activation;  // per layer: BN output y (hidden) or logits
  std::vector<torch::Tensor> planes;          // per hidden layer: [B, L, N] in {-1, +1}
};

class Network {
 public:
  Network(int64_t num_inputs, const std::vector<int>& hidden, int64_t num_classes, int levels,
          uint64_t seed);

  std::vector<Layer>& layers() { return layers_; }
  const std::vector<Layer>& layers() const { return layers_; }
  int levels() const { return levels_; }

  // x: [B, N0] input bits as +-1. Returns logits [B, classes].
  // dropout (training only) applies to the inputs of dense (non-LUT) layers.
  torch::Tensor forward(const torch::Tensor& x, bool training, WeightMode weights, TableMode tables,
                        ForwardTrace* trace = nullptr, double dropout = 0);

  // Effective level magnitudes of layer i's output activation (ratios applied when frozen).
  torch::Tensor output_magnitudes(size_t i) const;
  // Magnitudes of layer i's input planes: [1] for the first layer.
  torch::Tensor input_magnitudes(size_t i) const;

  // Fix m_l/m_0 of every hidden layer to the nearest multiple of 2^-bits (at least 2^-bits), so
  // that the exported accumulators are integers (DESIGN.md, "Folding batch norm").
  void freeze_level_ratios(int bits);
  bool level_ratios_frozen() const;

  // Keep the largest-|w| fraction of each layer's weights (ties broken by position).
  void prune(const std::vector<double>& keep_fraction);

  // Logic expansion of layer i: every kept connection becomes a K-LUT over its own input and K-1
  // extra inputs drawn from seeded random permutations; tables start as an exact XNOR copy of
  // the pruned layer, optionally with pruning recovery.
  void expand_to_luts(size_t layer, int k, bool pruning_recovery, uint64_t seed);

  // Parameters trained in a stage. freeze_magnitudes leaves the level magnitudes out.
  std::vector<torch::Tensor> parameters(bool lut_stage, bool freeze_magnitudes) const;

  // Clip latent weights and tables to [-1, 1] (after every optimizer step).
  void clip();

  // Every tensor with a stable name, for checkpoints and best-epoch snapshots.
  std::vector<std::pair<std::string, torch::Tensor*>> named_tensors();

  void to(const torch::Device& device);

  // Use the 2^K-product form of the LUT layers (benchmarks; also the path off the CPU).
  void set_naive_luts(bool naive) { naive_luts_ = naive; }

 private:
  bool naive_luts_ = false;
  std::vector<Layer> layers_;
  int levels_;
};

// Straight-through sign: forward sign(x) with sign(0) = +1, backward gradient 1 where |x| <= 1.
torch::Tensor ste_sign(const torch::Tensor& x);

}  // namespace lutnet::train
