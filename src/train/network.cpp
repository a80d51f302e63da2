#include "train/network.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.hpp"

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

Network::Network(int64_t num_inputs, const std::vector<int>& hidden, int64_t num_classes,
                 int levels, uint64_t seed)
    : levels_(levels) {
  torch::manual_seed(seed);
  std::vector<int64_t> widths(hidden.begin(), hidden.end());
  widths.push_back(num_classes);
  int64_t inputs = num_inputs;
  for (size_t i = 0; i < widths.size(); ++i) {
    Layer layer;
    layer.num_inputs = inputs;
    layer.num_outputs = widths[i];
    layer.input_levels = i == 0 ? 1 : levels;
    layer.is_output = i + 1 == widths.size();
    // Glorot-uniform latent weights, inside [-1, 1] where the straight-through estimator passes.
    const double bound = std::sqrt(6.0 / static_cast<double>(inputs + widths[i]));
    layer.weight = torch::empty({widths[i], inputs}).uniform_(-bound, bound).requires_grad_();
    layer.mask = torch::ones({widths[i], inputs});
    // The output layer has no batch norm: its scale sets the softmax temperature.
    const double gamma = layer.is_output ? 1.0 / std::sqrt(static_cast<double>(inputs)) : 1.0;
    layer.gamma = torch::full({}, gamma).requires_grad_();
    if (!layer.is_output) {
      layer.bn_weight = torch::ones({widths[i]}).requires_grad_();
      layer.bn_bias = torch::zeros({widths[i]}).requires_grad_();
      layer.running_mean = torch::zeros({widths[i]});
      layer.running_var = torch::ones({widths[i]});
      // ReBNet initialisation: m0 = 2/3, m1 = 1/3 (a single level starts at 1).
      layer.level_magnitudes =
          (levels == 1 ? torch::ones({1}) : torch::tensor({2.0f / 3, 1.0f / 3})).requires_grad_();
    }
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

torch::Tensor Network::forward(const torch::Tensor& x, bool training, WeightMode weights,
                               TableMode tables, ForwardTrace* trace, double dropout) {
  torch::Tensor planes = x.unsqueeze(1);  // [B, 1, N0]
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& layer = layers_[i];
    const auto magnitudes = input_magnitudes(i).view({1, -1, 1});
    const auto scale = layer.gamma.abs();
    torch::Tensor z;
    if (layer.is_lut) {
      const auto t = tables == TableMode::kBinary ? ste_sign(layer.tables) : layer.tables;
      const bool naive = naive_luts_ || !planes.device().is_cpu();
      const auto sums =
          naive ? lut_dense_naive(planes, t, layer.wiring) : lut_dense(planes, t, layer.wiring);
      z = scale * (sums * magnitudes).sum(1);
    } else {
      const auto w =
          (weights == WeightMode::kBinary ? ste_sign(layer.weight) : layer.weight) * layer.mask;
      auto x_in = (planes * magnitudes).sum(1);
      if (training && dropout > 0) x_in = torch::dropout(x_in, dropout, true);
      z = scale * x_in.matmul(w.t());
    }
    if (layer.is_output) {
      if (trace) trace->pre_activation.push_back(z);
      return z;
    }
    torch::Tensor y;
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
      y = (z - mean) / torch::sqrt(var + kBatchNormEpsilon) * layer.bn_weight + layer.bn_bias;
    } else {
      y = (z - layer.running_mean) / torch::sqrt(layer.running_var + kBatchNormEpsilon) *
              layer.bn_weight +
          layer.bn_bias;
    }
    // Residual sign: s0 = sign(y), s1 = sign(y - m0*s0), ...
    const auto m = output_magnitudes(i);
    std::vector<torch::Tensor> level_signs;
    auto residual = y;
    for (int l = 0; l < levels_; ++l) {
      const auto s = ste_sign(residual);
      level_signs.push_back(s);
      if (l + 1 < levels_) residual = residual - m[l] * s;
    }
    planes = torch::stack(level_signs, 1);
    if (trace) {
      trace->pre_activation.push_back(y);
      trace->planes.push_back(planes);
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

void Network::prune(const std::vector<double>& keep_fraction) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& layer = layers_[i];
    const int64_t total = layer.weight.numel();
    // The output layer keeps the same number of connections for every class: its logits are
    // |g| * sum_l m_l (2 pc_l - n), so only with one n for all classes is the argmax over the
    // integer accumulators the argmax over the logits.
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

std::vector<torch::Tensor> Network::parameters(bool lut_stage, bool freeze_magnitudes) const {
  std::vector<torch::Tensor> params;
  for (const auto& layer : layers_) {
    if (lut_stage && layer.is_lut) {
      params.push_back(layer.tables);
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
