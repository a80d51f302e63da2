#pragma once
// The trainable LUTNet/ReBNet network, an MLP or a conv net (DESIGN.md §2, §8). Plain tensors
// rather than torch::nn modules, so that the structure can change between stages (pruning, logic
// expansion) and every tensor has a stable name in checkpoints.
#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "train/config.hpp"
#include "train/lut_dense_function.hpp"

namespace lutnet::train {

// Batch norm's variance epsilon; export folds it into the thresholds, so both use this one.
inline constexpr double kBatchNormEpsilon = 1e-4;

// A seeded Fisher-Yates permutation of 0..n-1, independent of the standard library's shuffle, so
// runs are reproducible everywhere.
std::vector<int64_t> seeded_permutation(int64_t n, std::mt19937_64& rng);

enum class WeightMode { kRealClipped, kBinary };  // dense layers: |g|*clip(w) or |g|*sign(w)
enum class TableMode { kReal, kBinary };          // LUT layers: clip(c) or sign(c)

// Where a conv layer sits: its input planes C x H x W, a kernel x kernel window moved by `stride`
// (valid, no padding), the conv output H' x W', and an optional pool x pool max-pool of stride
// pool applied to the batch-norm output before the residual sign.
struct ConvGeometry {
  int64_t in_channels = 0, in_height = 0, in_width = 0;
  int64_t kernel = 3, stride = 1, pool = 0;
  int64_t out_height = 0, out_width = 0;  // before the pool

  bool pooled() const { return pool > 1; }
  int64_t pixels() const { return out_height * out_width; }
  int64_t pooled_height() const { return pooled() ? (out_height - pool) / pool + 1 : out_height; }
  int64_t pooled_width() const { return pooled() ? (out_width - pool) / pool + 1 : out_width; }
};

// The shape of a network: the input (C x H x W planes for a conv net, where the encoded image has
// C = channels * T thermometer bits, channel c*T + j; or a flat vector of N bits for an MLP), the
// conv part, the dense hidden widths and the classes.
struct NetworkShape {
  int64_t input_channels = 0, input_height = 1, input_width = 1;
  int64_t input_group = 1;  // T: thermometer bits per pixel (adjacent in the flat input)
  std::vector<ConvSpec> conv;
  std::vector<int> hidden;
  int64_t num_classes = 0;
  int levels = 2;
};

struct Layer {
  // Conv layers: the LUT array / weight matrix is over the window positions
  // (ci * kernel + ky) * kernel + kx (torch's unfold order) and shared by every output pixel.
  bool is_conv = false;
  ConvGeometry conv;

  int64_t num_inputs = 0;  // dense: flat input positions; conv: window positions
  int64_t num_outputs = 0;
  int64_t input_levels = 1;
  bool is_output = false;

  torch::Tensor weight;  // [out, in] latent real weights, kept in [-1, 1] (conv: [Cout, window])
  torch::Tensor mask;    // [out, in] 1 = kept connection
  torch::Tensor gamma;   // [] learned scale, used as |gamma|

  bool is_lut = false;   // after logic expansion
  torch::Tensor tables;  // [input_levels, C, 2^K], kept in [-1, 1]; tiled: [input_levels, P, 2^K]
  LutWiring wiring;
  // While the extra inputs are learned (train/input_selection.hpp): [K-1, N_in, N_in]; the
  // wiring's perms are then unused until fix_input_selection writes the choice into them.
  torch::Tensor selection_scores;

  // Tiled layers (DESIGN.md §9): tm x tn tiles of PO = out/tm outputs and PI = in/tn inputs; the
  // mask is tied (the same PO x PI pattern in every tile pair). A tiled LUT layer's tables belong
  // to its P kept tile positions (tile_position: int64 [C], each connection's row) and it reads
  // N weight bits per connection (bit_weights: [N, C] latent reals, binarized by the STE) as its
  // high address bits; the wiring then has K - N activation inputs.
  TileSpec tiles;
  torch::Tensor tile_position;
  torch::Tensor bit_weights;
  bool tiled() const { return tiles.tiled(); }

  // Hidden layers: batch norm and the magnitudes of the residual-sign activation that follows.
  torch::Tensor bn_weight, bn_bias, running_mean, running_var;
  torch::Tensor level_magnitudes;  // [levels] m_0, m_1 (learned)
  torch::Tensor level_ratios;      // [levels] fixed m_l/m_0 once frozen (undefined before)
};

// Per-layer result of a forward pass, for checks against the exported model. Entries follow the
// exported model's layers: a pooled conv layer has two, the conv (its BN output before the pool
// and that output's residual signs, computed for the trace only) and the pool (the pooled BN
// output and the signs the next layer reads). Conv entries are flattened in (c, y, x) order.
struct ForwardTrace {
  std::vector<torch::Tensor> pre_activation;  // per layer: BN output y [B, N] (hidden) or logits
  std::vector<torch::Tensor> planes;          // per hidden layer: [B, L, N] in {-1, +1}
};

class Network {
 public:
  // An MLP over num_inputs input bits.
  Network(int64_t num_inputs, const std::vector<int>& hidden, int64_t num_classes, int levels,
          uint64_t seed);
  // Any network; throws lutnet::Error when a conv layer does not fit its input
  // ("config: conv[4] (64): kernel 3 is larger than its 2x2 input").
  Network(const NetworkShape& shape, uint64_t seed);

  std::vector<Layer>& layers() { return layers_; }
  const std::vector<Layer>& layers() const { return layers_; }
  int levels() const { return levels_; }
  const NetworkShape& shape() const { return shape_; }

  // x: [B, N0] input bits as +-1 in the model's input order. Returns logits [B, classes].
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

  // Learned extra inputs for LUT layer i (unrolled), starting from its random permutations; and
  // the end of learning: every layer's current choice written into its wiring's perms.
  void learn_input_selection(size_t layer, uint64_t seed);
  void fix_input_selection();

  // Tiles layer i (before pruning); throws lutnet::Error when they do not divide the layer
  // ("config: tiles 8x8 of layer 4 do not divide its 10 outputs x 256 inputs").
  void set_tiles(size_t layer, const TileSpec& tiles);

  // Logic expansion of a tiled layer: K-LUTs with K - N activation inputs (the extra ones drawn
  // by seeded permutations within the input tile) and N weight-bit inputs, one table per kept
  // tile position and level, starting as XNOR(own input, weight bit 0).
  void expand_tiled_to_luts(size_t layer, int k, int n, uint64_t seed);

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
  torch::Tensor layer_sums(Layer& layer, const torch::Tensor& planes,
                           const torch::Tensor& magnitudes, bool training, WeightMode weights,
                           TableMode tables, double dropout);
  torch::Tensor batch_norm(Layer& layer, const torch::Tensor& z, bool training);
  torch::Tensor residual_sign(size_t layer, const torch::Tensor& y) const;

  std::vector<Layer> layers_;
  int levels_;
  NetworkShape shape_;
};

// The table each connection of a LUT layer uses, [L, C, 2^(K-N)]: its own (unrolled), or
// (tiled) its tile position's shared table with the N weight-bit inputs fixed at the
// connection's binarized weights, as a multilinear function of them so that the weight bits
// receive the straight-through gradient. Binary mode takes the sign of the tables first.
torch::Tensor connection_tables(const Layer& layer, TableMode mode);

// The encoded images [B, N0] (+-1, the model's flat input order ((c*H + y)*W + x)*T + j) as
// conv planes [B, 1, C*T, H, W] with channel c*T + j (the core's input_activation_shape).
torch::Tensor input_planes(const torch::Tensor& x, const NetworkShape& shape);

// The receptive windows of conv planes [B, L, C, H, W] as rows [B*P, L, C*kernel*kernel]
// (row b*P + p for output pixel p = y*W' + x; window position (c*kernel + ky)*kernel + kx).
torch::Tensor conv_windows(const torch::Tensor& planes, int64_t kernel, int64_t stride);

// Straight-through sign: forward sign(x) with sign(0) = +1, backward gradient 1 where |x| <= 1.
torch::Tensor ste_sign(const torch::Tensor& x);
// The same function as one autograd node (sign forward, masked gradient backward): fewer passes
// over large conv activations. Values equal ste_sign's up to float rounding of x + (h - x).
torch::Tensor ste_sign_fused(const torch::Tensor& x);

}  // namespace lutnet::train
