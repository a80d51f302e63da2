#include "train/network.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.hpp"
#include "train/input_selection.hpp"
#include "train/lut_dense_portable.hpp"

namespace lutnet::train {

namespace {
constexpr double kBatchNormMomentum = 0.1;
constexpr double kMinimumScale = 1e-2;

}  // namespace

std::vector<int64_t> seeded_permutation(int64_t n, std::mt19937_64& rng) {
  std::vector<int64_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
    std::swap(p[i], p[j]);
  }
  return p;
}

torch::Tensor ste_sign(const torch::Tensor& x) {
  const auto clipped = x.clamp(-1, 1);
  const auto hard = torch::where(x >= 0, torch::ones_like(x), -torch::ones_like(x));
  return clipped + (hard - clipped).detach();
}

namespace {

NetworkShape mlp_shape(int64_t num_inputs, const std::vector<int>& hidden, int64_t num_classes,
                       int levels) {
  NetworkShape shape;
  shape.input_channels = num_inputs;
  shape.hidden = hidden;
  shape.num_classes = num_classes;
  shape.levels = levels;
  return shape;
}

// A layer's trainable tensors: Glorot-uniform latent weights, inside [-1, 1] where the
// straight-through estimator passes; batch norm and the residual-sign magnitudes for hidden layers.
void init_layer(Layer& layer, int64_t fan_in, int64_t fan_out, int levels) {
  const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  layer.weight =
      torch::empty({layer.num_outputs, layer.num_inputs}).uniform_(-bound, bound).requires_grad_();
  layer.mask = torch::ones({layer.num_outputs, layer.num_inputs});
  // The output layer has no batch norm: its scale sets the softmax temperature.
  const double gamma =
      layer.is_output ? 1.0 / std::sqrt(static_cast<double>(layer.num_inputs)) : 1.0;
  layer.gamma = torch::full({}, gamma).requires_grad_();
  if (layer.is_output) return;
  const int64_t n = layer.num_outputs;
  layer.bn_weight = torch::ones({n}).requires_grad_();
  layer.bn_bias = torch::zeros({n}).requires_grad_();
  layer.running_mean = torch::zeros({n});
  layer.running_var = torch::ones({n});
  // ReBNet initialisation: m0 = 2/3, m1 = 1/3 (a single level starts at 1).
  layer.level_magnitudes =
      (levels == 1 ? torch::ones({1}) : torch::tensor({2.0f / 3, 1.0f / 3})).requires_grad_();
}

}  // namespace

namespace {

class SteSignFunction : public torch::autograd::Function<SteSignFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    ctx->save_for_backward({x});
    return torch::where(x >= 0, torch::ones({}, x.options()), -torch::ones({}, x.options()));
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    const auto x = ctx->get_saved_variables()[0];
    return {grad[0].masked_fill(x.abs() > 1, 0)};
  }
};

}  // namespace

torch::Tensor ste_sign_fused(const torch::Tensor& x) { return SteSignFunction::apply(x); }

Network::Network(int64_t num_inputs, const std::vector<int>& hidden, int64_t num_classes,
                 int levels, uint64_t seed)
    : Network(mlp_shape(num_inputs, hidden, num_classes, levels), seed) {}

Network::Network(const NetworkShape& shape, uint64_t seed) : levels_(shape.levels), shape_(shape) {
  torch::manual_seed(seed);
  int64_t channels = shape.input_channels, height = shape.input_height, width = shape.input_width;
  for (size_t i = 0; i < shape.conv.size(); ++i) {
    const ConvSpec& spec = shape.conv[i];
    Layer layer;
    layer.is_conv = true;
    ConvGeometry& g = layer.conv;
    g = {channels, height, width, spec.kernel, spec.stride, spec.pool, 0, 0};
    const std::string where = fmt::format("config: conv[{}] ({})", i, format_conv_spec({spec}));
    if (spec.kernel > height || spec.kernel > width)
      throw Error(fmt::format("{}: kernel {} is larger than its {}x{} input", where, spec.kernel,
                              height, width));
    g.out_height = (height - spec.kernel) / spec.stride + 1;
    g.out_width = (width - spec.kernel) / spec.stride + 1;
    if (g.pooled() && (g.pool > g.out_height || g.pool > g.out_width))
      throw Error(fmt::format("{}: pool {} is larger than its {}x{} input", where, g.pool,
                              g.out_height, g.out_width));
    layer.num_inputs = channels * spec.kernel * spec.kernel;
    layer.num_outputs = spec.channels;
    layer.input_levels = i == 0 ? 1 : levels_;
    init_layer(layer, layer.num_inputs, layer.num_outputs * spec.kernel * spec.kernel, levels_);
    layers_.push_back(std::move(layer));
    channels = spec.channels;
    height = g.pooled_height();
    width = g.pooled_width();
  }
  std::vector<int64_t> widths(shape.hidden.begin(), shape.hidden.end());
  widths.push_back(shape.num_classes);
  int64_t inputs = channels * height * width;
  for (size_t i = 0; i < widths.size(); ++i) {
    Layer layer;
    layer.num_inputs = inputs;
    layer.num_outputs = widths[i];
    layer.input_levels = layers_.empty() ? 1 : levels_;
    layer.is_output = i + 1 == widths.size();
    init_layer(layer, inputs, widths[i], levels_);
    layers_.push_back(std::move(layer));
    inputs = widths[i];
  }
}

torch::Tensor Network::output_magnitudes(size_t i) const {
  const Layer& layer = layers_.at(i);
  if (layer.level_ratios.defined()) return layer.level_magnitudes[0] * layer.level_ratios;
  return layer.level_magnitudes;
}

torch::Tensor Network::input_magnitudes(size_t i) const {
  if (i == 0) return torch::ones({1}, layers_[0].weight.options().requires_grad(false));
  return output_magnitudes(i - 1);
}

torch::Tensor input_planes(const torch::Tensor& x, const NetworkShape& shape) {
  const int64_t t = shape.input_group;
  return x.view({x.size(0), shape.input_channels / t, shape.input_height, shape.input_width, t})
      .permute({0, 1, 4, 2, 3})
      .reshape({x.size(0), 1, shape.input_channels, shape.input_height, shape.input_width});
}

torch::Tensor conv_windows(const torch::Tensor& planes, int64_t kernel, int64_t stride) {
  const int64_t batch = planes.size(0), levels = planes.size(1);
  const auto flat =
      planes.reshape({batch * levels, planes.size(2), planes.size(3), planes.size(4)});
  // im2col: [B*L, C*k*k, P], window position (c*k + ky)*k + kx, pixel y*W' + x.
  const auto cols = torch::nn::functional::unfold(
      flat, torch::nn::functional::UnfoldFuncOptions({kernel, kernel}).stride(stride));
  const int64_t window = cols.size(1), pixels = cols.size(2);
  return cols.view({batch, levels, window, pixels})
      .permute({0, 3, 1, 2})
      .reshape({batch * pixels, levels, window});
}

// The pre-batch-norm sums z of one layer: [B, out] (dense) or [B, Cout, H', W'] (conv).
torch::Tensor Network::layer_sums(Layer& layer, const torch::Tensor& planes,
                                  const torch::Tensor& magnitudes, bool training,
                                  WeightMode weights, TableMode tables, double dropout) {
  const auto scale = layer.gamma.abs();
  if (layer.is_lut) {
    // The fused kernel on the CPU, tensor operations elsewhere; the 2^K-product form on request
    // (benchmarks).
    const bool fused = !naive_luts_ && planes.device().is_cpu();
    auto rows = layer.is_conv ? conv_windows(planes, layer.conv.kernel, layer.conv.stride) : planes;
    LutWiring wiring = layer.wiring;
    if (layer.selection_scores.defined()) {
      wiring.perms =
          stacked_perms(layer.selection_scores.size(0) + 1, layer.num_inputs, rows.device());
      rows = select_inputs(rows, layer.selection_scores);
    }
    // The fused kernel takes an untiled layer's sign(T) itself (no tensor passes over the tables).
    const bool fused_sign = fused && !layer.tiled() && tables == TableMode::kBinary;
    const auto t = fused_sign ? layer.tables : connection_tables(layer, tables);
    const auto sums = fused         ? lut_dense(rows, t, wiring, fused_sign)
                      : naive_luts_ ? lut_dense_naive(rows, t, wiring)
                                    : lut_dense_portable(rows, t, wiring);
    const auto z = scale * (sums * magnitudes.view({1, -1, 1})).sum(1);
    if (!layer.is_conv) return z;
    const ConvGeometry& g = layer.conv;
    return z.view({planes.size(0), g.out_height, g.out_width, layer.num_outputs})
        .permute({0, 3, 1, 2});
  }
  const auto w =
      (weights == WeightMode::kBinary ? ste_sign(layer.weight) : layer.weight) * layer.mask;
  if (layer.is_conv) {
    const ConvGeometry& g = layer.conv;
    const auto x_in = (planes * magnitudes.view({1, -1, 1, 1, 1})).sum(1);
    return scale * torch::conv2d(x_in,
                                 w.view({layer.num_outputs, g.in_channels, g.kernel, g.kernel}), {},
                                 g.stride);
  }
  auto x_in = (planes * magnitudes.view({1, -1, 1})).sum(1);
  if (training && dropout > 0) x_in = torch::dropout(x_in, dropout, true);
  return scale * x_in.matmul(w.t());
}

torch::Tensor Network::batch_norm(Layer& layer, const torch::Tensor& z, bool training) {
  if (layer.is_conv) {
    // Per channel over batch and pixels; LibTorch's fused kernel, with the same momentum,
    // epsilon and unbiased running variance as the dense form below.
    return torch::batch_norm(z, layer.bn_weight, layer.bn_bias, layer.running_mean,
                             layer.running_var, training, kBatchNormMomentum, kBatchNormEpsilon,
                             /*cudnn_enabled=*/true);
  }
  if (training) {
    const auto mean = z.mean(0);
    const auto var = z.var(0, /*unbiased=*/false);
    {
      torch::NoGradGuard no_grad;
      const double n = static_cast<double>(z.size(0));
      layer.running_mean.mul_(1 - kBatchNormMomentum).add_(kBatchNormMomentum * mean);
      layer.running_var.mul_(1 - kBatchNormMomentum)
          .add_(kBatchNormMomentum * var * (n / std::max(1.0, n - 1)));
    }
    return (z - mean) / torch::sqrt(var + kBatchNormEpsilon) * layer.bn_weight + layer.bn_bias;
  }
  return (z - layer.running_mean) / torch::sqrt(layer.running_var + kBatchNormEpsilon) *
             layer.bn_weight +
         layer.bn_bias;
}

// Residual sign: s0 = sign(y), s1 = sign(y - m0*s0), ...; planes [B, L, ...]. Conv layers use
// the one-pass sign (their activations are large; MLPs keep the original form and its bytes).
torch::Tensor Network::residual_sign(size_t i, const torch::Tensor& y) const {
  const auto m = output_magnitudes(i);
  const bool fused = layers_[i].is_conv;
  std::vector<torch::Tensor> level_signs;
  auto residual = y;
  for (int l = 0; l < levels_; ++l) {
    const auto s = fused ? ste_sign_fused(residual) : ste_sign(residual);
    level_signs.push_back(s);
    if (l + 1 < levels_) residual = residual - m[l] * s;
  }
  return torch::stack(level_signs, 1);
}

torch::Tensor Network::forward(const torch::Tensor& x, bool training, WeightMode weights,
                               TableMode tables, ForwardTrace* trace, double dropout) {
  // [B, 1, N0] for an MLP, [B, 1, C, H, W] for a conv net.
  torch::Tensor planes = layers_[0].is_conv ? input_planes(x, shape_) : x.unsqueeze(1);
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& layer = layers_[i];
    if (!layer.is_conv && planes.dim() == 5) planes = planes.flatten(2);  // (c, y, x) order
    const auto z =
        layer_sums(layer, planes, input_magnitudes(i), training, weights, tables, dropout);
    if (layer.is_output) {
      if (trace) trace->pre_activation.push_back(z);
      return z;
    }
    auto y = batch_norm(layer, z, training);
    if (layer.is_conv && layer.conv.pooled()) {
      if (trace) {
        trace->pre_activation.push_back(y.flatten(1));
        trace->planes.push_back(residual_sign(i, y).flatten(2));
      }
      // Max-pool before the residual sign (DESIGN.md §8).
      y = torch::max_pool2d(y, {layer.conv.pool, layer.conv.pool},
                            {layer.conv.pool, layer.conv.pool});
    }
    planes = residual_sign(i, y);
    if (trace) {
      trace->pre_activation.push_back(layer.is_conv ? y.flatten(1) : y);
      trace->planes.push_back(layer.is_conv ? planes.flatten(2) : planes);
    }
  }
  throw Error("network has no output layer");
}

void Network::freeze_level_ratios(int bits) {
  torch::NoGradGuard no_grad;
  const double unit = std::ldexp(1.0, -bits);
  for (auto& layer : layers_) {
    if (layer.is_output) continue;
    const auto m = layer.level_magnitudes.abs();
    std::vector<float> ratios;
    for (int l = 0; l < levels_; ++l) {
      const double r = m[l].item<double>() / std::max(1e-12, m[0].item<double>());
      // Residual levels shrink: m_l <= m_0 keeps the integer level weights small.
      ratios.push_back(
          static_cast<float>(l == 0 ? 1.0 : std::clamp(std::round(r / unit) * unit, unit, 1.0)));
    }
    layer.level_ratios =
        torch::tensor(ratios, layer.level_magnitudes.options().requires_grad(false));
  }
}

bool Network::level_ratios_frozen() const {
  for (const auto& layer : layers_)
    if (!layer.is_output && !layer.level_ratios.defined()) return false;
  return true;
}

namespace {

// Keeps the fraction of tile positions with the largest sum of |w| over the tile pairs, and ties
// the mask: the same positions in every tile pair.
void prune_tied(Layer& layer, double keep_fraction) {
  const int64_t tm = layer.tiles.tm, tn = layer.tiles.tn;
  const int64_t po = layer.num_outputs / tm, pi = layer.num_inputs / tn;
  const auto score = layer.weight.abs()
                         .cpu()
                         .view({tm, po, tn, pi})
                         .sum(std::vector<int64_t>{0, 2})
                         .flatten()
                         .contiguous();
  const float* sp = score.data_ptr<float>();
  const int64_t positions = po * pi;
  const int64_t keep = std::clamp<int64_t>(
      static_cast<int64_t>(std::llround(keep_fraction * static_cast<double>(positions))), 1,
      positions);
  std::vector<int64_t> order(positions);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return sp[a] > sp[b]; });
  auto tile_mask = torch::zeros({positions});
  float* mp = tile_mask.data_ptr<float>();
  for (int64_t j = 0; j < keep; ++j) mp[order[j]] = 1.0f;
  layer.mask = tile_mask.view({1, po, 1, pi})
                   .expand({tm, po, tn, pi})
                   .reshape({layer.num_outputs, layer.num_inputs})
                   .contiguous()
                   .to(layer.weight.device());
}

}  // namespace

void Network::set_tiles(size_t index, const TileSpec& tiles) {
  Layer& layer = layers_.at(index);
  if (tiles.tiled() &&
      (layer.num_outputs % tiles.tm != 0 || layer.num_inputs % tiles.tn != 0 || layer.is_output))
    throw Error(
        fmt::format("config: tiles {}x{} of layer {} do not divide its {} outputs x {} inputs{}",
                    tiles.tm, tiles.tn, index, layer.num_outputs, layer.num_inputs,
                    layer.is_output ? " (and the output layer is never tiled)" : ""));
  layer.tiles = tiles;
}

void Network::prune(const std::vector<double>& keep_fraction) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& layer = layers_[i];
    const int64_t total = layer.weight.numel();
    // The output layer keeps the same number of connections for every class: its logits are
    // |g| * sum_l m_l (2 pc_l - n), so only with one n for all classes is the argmax over the
    // integer accumulators the argmax over the logits.
    if (layer.tiled()) {
      prune_tied(layer, keep_fraction[i]);
      continue;
    }
    const int64_t group = layer.is_output ? layer.num_inputs : total;
    const int64_t keep = std::clamp<int64_t>(
        static_cast<int64_t>(std::llround(keep_fraction[i] * static_cast<double>(group))), 1,
        group);
    const auto magnitude = layer.weight.abs().flatten().cpu().contiguous();
    const float* mag = magnitude.data_ptr<float>();
    auto mask = torch::zeros({total});
    float* mp = mask.data_ptr<float>();
    std::vector<int64_t> order(group);
    for (int64_t g0 = 0; g0 < total; g0 += group) {
      std::iota(order.begin(), order.end(), g0);
      // Stable ordering by magnitude (then position) so ties are broken the same way everywhere.
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return mag[a] > mag[b]; });
      for (int64_t j = 0; j < keep; ++j) mp[order[j]] = 1.0f;
    }
    layer.mask = mask.view_as(layer.weight).to(layer.weight.device());
  }
}

void Network::expand_to_luts(size_t index, int k, bool pruning_recovery, uint64_t seed) {
  torch::NoGradGuard no_grad;
  Layer& layer = layers_.at(index);
  const int64_t n_in = layer.num_inputs;
  std::mt19937_64 rng(seed * 1000003 + index);
  std::vector<int32_t> perms(static_cast<size_t>(k) * n_in);
  std::iota(perms.begin(), perms.begin() + n_in, 0);
  for (int j = 1; j < k; ++j) {
    const auto p = seeded_permutation(n_in, rng);
    std::copy(p.begin(), p.end(), perms.begin() + static_cast<int64_t>(j) * n_in);
  }
  const auto weight = layer.weight.clamp(-1, 1).cpu().contiguous();
  const auto mask = layer.mask.cpu().contiguous();
  const float* w = weight.data_ptr<float>();
  const float* m = mask.data_ptr<float>();
  std::vector<int32_t> conn_input, conn_output;
  for (int64_t o = 0; o < layer.num_outputs; ++o)
    for (int64_t i = 0; i < n_in; ++i)
      if (m[o * n_in + i] != 0) {
        conn_input.push_back(static_cast<int32_t>(i));
        conn_output.push_back(static_cast<int32_t>(o));
      }
  const int64_t conns = static_cast<int64_t>(conn_input.size());
  const int64_t vertices = int64_t{1} << k;
  auto tables = torch::empty({conns, vertices});
  float* t = tables.data_ptr<float>();
  for (int64_t c = 0; c < conns; ++c) {
    const int64_t i = conn_input[c], o = conn_output[c];
    for (int64_t p = 0; p < vertices; ++p) {
      // c_p = sigma_0(p) * w_io reproduces XNOR(x_i, w_io).
      double value = (p & 1 ? 1.0 : -1.0) * w[o * n_in + i];
      if (pruning_recovery) {
        for (int j = 1; j < k; ++j) {
          const int64_t extra = perms[static_cast<size_t>(j) * n_in + i];
          if (m[o * n_in + extra] == 0) value += ((p >> j) & 1 ? 1.0 : -1.0) * w[o * n_in + extra];
        }
      }
      t[c * vertices + p] = static_cast<float>(std::clamp(value, -1.0, 1.0));
    }
  }
  const auto device = layer.weight.device();
  layer.tables = tables.unsqueeze(0)
                     .repeat({layer.input_levels, 1, 1})
                     .to(device)
                     .contiguous()
                     .requires_grad_();
  layer.wiring.conn_input = torch::tensor(conn_input, torch::kInt32).to(device);
  layer.wiring.conn_output = torch::tensor(conn_output, torch::kInt32).to(device);
  layer.wiring.perms = torch::tensor(perms, torch::kInt32).view({k, n_in}).to(device);
  layer.wiring.num_outputs = layer.num_outputs;
  layer.is_lut = true;
}

void Network::learn_input_selection(size_t index, uint64_t seed) {
  Layer& layer = layers_.at(index);
  if (!layer.is_lut || layer.tiled())
    throw InternalError("learn_input_selection: layer " + std::to_string(index) +
                        " is not an unrolled LUT layer");
  layer.selection_scores =
      initial_selection_scores(layer.wiring.perms, seed * 1000003 + index).requires_grad_();
}

void Network::fix_input_selection() {
  for (auto& layer : layers_) {
    if (!layer.selection_scores.defined()) continue;
    layer.wiring.perms = selected_perms(layer.selection_scores);
    layer.selection_scores = torch::Tensor();
  }
}

void Network::expand_tiled_to_luts(size_t index, int k, int n, uint64_t seed) {
  torch::NoGradGuard no_grad;
  Layer& layer = layers_.at(index);
  if (!layer.tiled()) throw InternalError("expand_tiled_to_luts on an untiled layer");
  const int64_t n_in = layer.num_inputs, pi_count = n_in / layer.tiles.tn;
  const int64_t po_count = layer.num_outputs / layer.tiles.tm;
  const int activations = k - n;
  // Extra input j of tile position pi is position q_j(pi) of the same input tile.
  std::mt19937_64 rng(seed * 1000003 + index);
  std::vector<int32_t> perms(static_cast<size_t>(activations) * n_in);
  std::iota(perms.begin(), perms.begin() + n_in, 0);
  for (int j = 1; j < activations; ++j) {
    const auto q = seeded_permutation(pi_count, rng);
    for (int64_t i = 0; i < n_in; ++i)
      perms[static_cast<size_t>(j) * n_in + i] =
          static_cast<int32_t>(i - i % pi_count + q[i % pi_count]);
  }
  const auto weight = layer.weight.clamp(-1, 1).cpu().contiguous();
  const auto mask = layer.mask.cpu().contiguous();
  const float* w = weight.data_ptr<float>();
  const float* m = mask.data_ptr<float>();
  // Kept tile positions (tile pair 0), numbered in order, with their mean |w| over tile pairs.
  std::vector<int64_t> position_row(po_count * pi_count, -1);
  std::vector<double> magnitude;
  for (int64_t p = 0; p < po_count * pi_count; ++p)
    if (m[(p / pi_count) * n_in + p % pi_count] != 0) {
      position_row[p] = static_cast<int64_t>(magnitude.size());
      magnitude.push_back(0);
    }
  std::vector<int32_t> conn_input, conn_output;
  std::vector<int64_t> tile_position;
  std::vector<float> bits;
  for (int64_t o = 0; o < layer.num_outputs; ++o)
    for (int64_t i = 0; i < n_in; ++i)
      if (m[o * n_in + i] != 0) {
        const int64_t row = position_row[(o % po_count) * pi_count + i % pi_count];
        conn_input.push_back(static_cast<int32_t>(i));
        conn_output.push_back(static_cast<int32_t>(o));
        tile_position.push_back(row);
        bits.push_back(w[o * n_in + i]);
        magnitude[row] +=
            std::abs(w[o * n_in + i]) / static_cast<double>(layer.tiles.tm * layer.tiles.tn);
      }
  const int64_t positions = static_cast<int64_t>(magnitude.size());
  const int64_t vertices = int64_t{1} << k;
  auto tables = torch::empty({positions, vertices});
  float* t = tables.data_ptr<float>();
  for (int64_t p = 0; p < positions; ++p)
    for (int64_t v = 0; v < vertices; ++v) {
      // XNOR(own input, weight bit 0), at the position's mean weight magnitude.
      const bool agree = (v & 1) == ((v >> activations) & 1);
      t[p * vertices + v] = static_cast<float>(agree ? magnitude[p] : -magnitude[p]);
    }
  const auto device = layer.weight.device();
  const int64_t conns = static_cast<int64_t>(conn_input.size());
  layer.tables = tables.unsqueeze(0)
                     .repeat({layer.input_levels, 1, 1})
                     .to(device)
                     .contiguous()
                     .requires_grad_();
  // Every weight bit starts at the BNN weight; only bit 0 is read by the initial tables.
  layer.bit_weights =
      torch::tensor(bits).view({1, conns}).repeat({n, 1}).to(device).contiguous().requires_grad_();
  layer.tile_position = torch::tensor(tile_position, torch::kLong).to(device);
  layer.wiring.conn_input = torch::tensor(conn_input, torch::kInt32).to(device);
  layer.wiring.conn_output = torch::tensor(conn_output, torch::kInt32).to(device);
  layer.wiring.perms = torch::tensor(perms, torch::kInt32).view({activations, n_in}).to(device);
  layer.wiring.num_outputs = layer.num_outputs;
  layer.is_lut = true;
}

torch::Tensor connection_tables(const Layer& layer, TableMode mode) {
  const auto t = mode == TableMode::kBinary ? ste_sign(layer.tables) : layer.tables;
  if (!layer.tiled()) return t;
  const int64_t levels = t.size(0), conns = layer.tile_position.numel();
  const int64_t n = layer.bit_weights.size(0);
  const int64_t width = t.size(2) >> n;        // 2^(K-N) entries per weight value
  const auto w = ste_sign(layer.bit_weights);  // [N, C]
  // [L, C, 2^N, 2^(K-N)]: entry s of dim 2 is the table for weight bits s. Fold the weight bits
  // in from the most significant: (1 - w)/2 * T[bit = 0] + (1 + w)/2 * T[bit = 1], exact for
  // w = +-1.
  auto x = t.index_select(1, layer.tile_position).view({levels, conns, int64_t{1} << n, width});
  for (int64_t b = n - 1; b >= 0; --b) {
    const auto halves = x.view({levels, conns, 2, int64_t{1} << b, width});
    const auto wb = w[b].view({1, conns, 1, 1});
    x = halves.select(2, 0) * ((1 - wb) / 2) + halves.select(2, 1) * ((1 + wb) / 2);
  }
  return x.view({levels, conns, width}).contiguous();
}

std::vector<torch::Tensor> Network::parameters(bool lut_stage, bool freeze_magnitudes) const {
  std::vector<torch::Tensor> params;
  for (const auto& layer : layers_) {
    if (lut_stage && layer.is_lut) {
      params.push_back(layer.tables);
      if (layer.tiled()) params.push_back(layer.bit_weights);
      if (layer.selection_scores.defined()) params.push_back(layer.selection_scores);
    } else {
      params.push_back(layer.weight);
    }
    params.push_back(layer.gamma);
    if (!layer.is_output) {
      params.push_back(layer.bn_weight);
      params.push_back(layer.bn_bias);
      if (!freeze_magnitudes) params.push_back(layer.level_magnitudes);
    }
  }
  return params;
}

void Network::clip() {
  torch::NoGradGuard no_grad;
  for (auto& layer : layers_) {
    layer.weight.clamp_(-1, 1);
    if (layer.is_lut) layer.tables.clamp_(-1, 1);
    if (layer.bit_weights.defined()) layer.bit_weights.clamp_(-1, 1);
    // Scales and level magnitudes stay positive and away from zero: a scale that reaches zero
    // silences every layer behind it for good (seen after pruning with Adam at lr 0.01).
    layer.gamma.clamp_(kMinimumScale);
    if (layer.level_magnitudes.defined()) layer.level_magnitudes.clamp_(kMinimumScale);
  }
}

std::vector<std::pair<std::string, torch::Tensor*>> Network::named_tensors() {
  std::vector<std::pair<std::string, torch::Tensor*>> named;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = layers_[i];
    const std::string p = "layer" + std::to_string(i) + ".";
    named.emplace_back(p + "weight", &l.weight);
    named.emplace_back(p + "mask", &l.mask);
    named.emplace_back(p + "gamma", &l.gamma);
    if (!l.is_output) {
      named.emplace_back(p + "bn_weight", &l.bn_weight);
      named.emplace_back(p + "bn_bias", &l.bn_bias);
      named.emplace_back(p + "running_mean", &l.running_mean);
      named.emplace_back(p + "running_var", &l.running_var);
      named.emplace_back(p + "level_magnitudes", &l.level_magnitudes);
      if (l.level_ratios.defined()) named.emplace_back(p + "level_ratios", &l.level_ratios);
    }
    if (l.is_lut) {
      named.emplace_back(p + "tables", &l.tables);
      named.emplace_back(p + "conn_input", &l.wiring.conn_input);
      named.emplace_back(p + "conn_output", &l.wiring.conn_output);
      named.emplace_back(p + "perms", &l.wiring.perms);
      if (l.selection_scores.defined())
        named.emplace_back(p + "selection_scores", &l.selection_scores);
      if (l.tiled()) {
        named.emplace_back(p + "tile_position", &l.tile_position);
        named.emplace_back(p + "bit_weights", &l.bit_weights);
      }
    }
  }
  return named;
}

void Network::to(const torch::Device& device) {
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : named_tensors()) {
    const bool grad = tensor->requires_grad();
    *tensor = tensor->to(device).detach().requires_grad_(grad);
  }
}

}  // namespace lutnet::train
