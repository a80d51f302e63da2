#include "train/export_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/tiling.hpp"

namespace lutnet::train {

namespace {

std::vector<int64_t> integer_level_weights(const Network& network, size_t layer) {
  if (layer == 0) return {1};
  const auto ratios = network.layers()[layer - 1].level_ratios.cpu();
  // Ratios are multiples of 2^-bits: scale to integers, then divide out the common factor.
  std::vector<int64_t> weights;
  for (int64_t l = 0; l < ratios.numel(); ++l)
    weights.push_back(std::llround(ratios[l].item<double>() * 256.0));
  int64_t g = 0;
  for (int64_t w : weights) g = std::gcd(g, w);
  for (int64_t& w : weights) w /= g;
  return weights;
}

// Connections, LUT inputs and tables of a LUT layer; returns the fan-in of every output.
std::vector<int64_t> export_luts(const Layer& layer, lutnet::Layer& out) {
  std::vector<int64_t> fan_in(layer.num_outputs, 0);
  const int64_t k = layer.wiring.perms.size(0);
  const int64_t n_in = layer.num_inputs;
  out.k = static_cast<int>(k);
  const auto cin = layer.wiring.conn_input.cpu().contiguous();
  const auto cout = layer.wiring.conn_output.cpu().contiguous();
  const auto perms = layer.wiring.perms.cpu().contiguous();
  const auto tables = (layer.tables >= 0).cpu().contiguous();  // sign(c) = +1 <=> bit 1
  const int32_t* ci = cin.data_ptr<int32_t>();
  const int32_t* co = cout.data_ptr<int32_t>();
  const int32_t* pp = perms.data_ptr<int32_t>();
  const bool* tb = tables.data_ptr<bool>();
  const int64_t conns = cin.numel(), vertices = int64_t{1} << k;
  for (int64_t c = 0; c < conns; ++c) {
    ++fan_in[co[c]];
    for (int64_t j = 0; j < k; ++j)
      out.lut_inputs.push_back(static_cast<uint32_t>(pp[j * n_in + ci[c]]));
    for (int64_t l = 0; l < layer.input_levels; ++l) {
      uint64_t table = 0;
      for (int64_t p = 0; p < vertices; ++p)
        table |= static_cast<uint64_t>(tb[(l * conns + c) * vertices + p]) << p;
      out.tables.push_back(table);
    }
  }
  return fan_in;
}

// Kept weights of a binarized layer as k = 1 XNOR connections; returns the fan-in of every output.
std::vector<int64_t> export_xnor(const Layer& layer, lutnet::Layer& out) {
  std::vector<int64_t> fan_in(layer.num_outputs, 0);
  out.k = 1;
  const auto mask = layer.mask.cpu().contiguous();
  const auto positive = (layer.weight >= 0).cpu().contiguous();
  const float* m = mask.data_ptr<float>();
  const bool* w = positive.data_ptr<bool>();
  for (int64_t o = 0; o < layer.num_outputs; ++o)
    for (int64_t i = 0; i < layer.num_inputs; ++i)
      if (m[o * layer.num_inputs + i] != 0) {
        ++fan_in[o];
        out.lut_inputs.push_back(static_cast<uint32_t>(i));
        // XNOR with weight +1 is the identity (table 0b10), with -1 the inversion (0b01).
        for (int64_t l = 0; l < layer.input_levels; ++l)
          out.tables.push_back(w[o * layer.num_inputs + i] ? 0b10 : 0b01);
      }
  return fan_in;
}

// A tiled layer's tiling: tiles, the tied mask (read from tile pair 0) and, per connection, the
// weight bits; then the tables (LUT layers: signs of the shared tables; XNOR layers: K = 2, N =
// 1, table 1001) and the lowering. Returns the fan-in of every output.
std::vector<int64_t> export_tiled(const Layer& layer, lutnet::Layer& out,
                                  const std::string& where) {
  Tiling& t = out.tiling;
  t.tm = layer.tiles.tm;
  t.tn = layer.tiles.tn;
  t.num_outputs = out.num_outputs;
  t.num_inputs = out.num_inputs;
  const int64_t n_in = layer.num_inputs, po_count = t.tile_outputs(), pi_count = t.tile_inputs();
  const auto mask = layer.mask.cpu().contiguous();
  const float* m = mask.data_ptr<float>();
  for (int64_t po = 0; po < po_count; ++po)
    for (int64_t pi = 0; pi < pi_count; ++pi) t.mask.push_back(m[po * n_in + pi] != 0);
  t.weight_bits.assign(static_cast<size_t>(layer.num_outputs) * n_in, 0);
  if (!layer.is_lut) {
    t.k = 2;
    t.n = 1;
    const auto positive = (layer.weight >= 0).cpu().contiguous();
    const bool* w = positive.data_ptr<bool>();
    for (int64_t c = 0; c < layer.num_outputs * n_in; ++c) t.weight_bits[c] = m[c] != 0 && w[c];
    for (const uint8_t kept : t.mask)
      for (int64_t l = 0; l < layer.input_levels; ++l) t.tables.push_back(kept ? 0b1001 : 0);
  } else {
    t.n = static_cast<int>(layer.bit_weights.size(0));
    t.k = static_cast<int>(layer.wiring.perms.size(0)) + t.n;
    const auto perms = layer.wiring.perms.cpu().contiguous();
    const int32_t* pp = perms.data_ptr<int32_t>();
    for (int64_t j = 1; j < perms.size(0); ++j)
      for (int64_t pi = 0; pi < pi_count; ++pi)
        t.extra_inputs.push_back(static_cast<uint32_t>(pp[j * n_in + pi]));  // tile 0: i = pi
    const auto cin = layer.wiring.conn_input.cpu().contiguous();
    const auto cout = layer.wiring.conn_output.cpu().contiguous();
    const auto bits = (layer.bit_weights >= 0).cpu().contiguous();
    const int32_t* ci = cin.data_ptr<int32_t>();
    const int32_t* co = cout.data_ptr<int32_t>();
    const bool* bp = bits.data_ptr<bool>();
    const int64_t conns = cin.numel();
    for (int64_t c = 0; c < conns; ++c) {
      uint8_t value = 0;
      for (int b = 0; b < t.n; ++b) value |= static_cast<uint8_t>(bp[b * conns + c]) << b;
      t.weight_bits[static_cast<size_t>(co[c]) * n_in + ci[c]] = value;
    }
    // The shared tables, one row per kept position in order (Network::expand_tiled_to_luts).
    const auto tables = (layer.tables >= 0).cpu().contiguous();  // [L, P, 2^K]
    const bool* tb = tables.data_ptr<bool>();
    const int64_t positions = tables.size(1), vertices = tables.size(2);
    int64_t row = 0;
    for (const uint8_t kept : t.mask) {
      for (int64_t l = 0; l < layer.input_levels; ++l) {
        uint64_t table = 0;
        for (int64_t v = 0; kept && v < vertices; ++v)
          table |= static_cast<uint64_t>(tb[(l * positions + row) * vertices + v]) << v;
        t.tables.push_back(table);
      }
      row += kept;
    }
  }
  lower_tiling(out, where);
  std::vector<int64_t> fan_in(layer.num_outputs);
  for (int64_t o = 0; o < layer.num_outputs; ++o)
    fan_in[o] = out.conn_offset[o + 1] - out.conn_offset[o];
  return fan_in;
}

// Batch norm and the output magnitudes folded into integer thresholds per output (or channel).
void fold_thresholds(const Network& network, size_t li, const std::vector<int64_t>& fan_in,
                     lutnet::Layer& out) {
  const Layer& layer = network.layers()[li];
  // z = |gamma| * sum_l m_l * (2 pc_l - n) = kappa * (2 acc - n * sum R), kappa =
  // |gamma| * m0_in / R_0.
  const auto in_m = network.input_magnitudes(li).cpu();
  const double weight_sum =
      std::accumulate(out.level_weights.begin(), out.level_weights.end(), 0.0);
  const double kappa = std::abs(layer.gamma.item<double>()) * in_m[0].item<double>() /
                       static_cast<double>(out.level_weights[0]);
  const auto bn_w = layer.bn_weight.cpu(), bn_b = layer.bn_bias.cpu();
  const auto mean = layer.running_mean.cpu(), var = layer.running_var.cpu();
  const auto out_m = network.output_magnitudes(li).cpu();
  const int levels = network.levels();
  for (int64_t o = 0; o < layer.num_outputs; ++o) {
    const double a = bn_w[o].item<double>() / std::sqrt(var[o].item<double>() + kBatchNormEpsilon);
    const double b = bn_b[o].item<double>() - a * mean[o].item<double>();
    const double n = static_cast<double>(fan_in[o]);
    const int64_t max_acc = static_cast<int64_t>(std::llround(n * weight_sum));
    const int sign = a < 0 ? -1 : 1;
    out.output_sign.push_back(static_cast<int8_t>(sign));
    // Threshold tree: bit b (after prefix bits) is y >= theta, theta = sum_j m_j (2 bit_j - 1).
    for (int bit = 0; bit < levels; ++bit) {
      for (int prefix = 0; prefix < (1 << bit); ++prefix) {
        double theta = 0;
        for (int j = 0; j < bit; ++j) {
          const bool earlier = (prefix >> (bit - 1 - j)) & 1;
          theta += out_m[j].item<double>() * (earlier ? 1.0 : -1.0);
        }
        int64_t t;
        if (a == 0 || kappa == 0) {
          // y = b is constant: the bit is always or never set.
          t = b >= theta ? -max_acc - 1 : max_acc + 2;  // sign is +1 here
        } else {
          const double x = ((theta - b) / (a * kappa) + n * weight_sum) / 2.0;
          if (sign > 0) {
            // acc >= ceil(x), clamped to the reachable range.
            t = static_cast<int64_t>(std::ceil(std::clamp(x, -1.0, max_acc + 1.0)));
          } else {
            // acc <= floor(x)  <=>  -acc >= -floor(x).
            t = -static_cast<int64_t>(std::floor(std::clamp(x, -1.0, max_acc + 1.0)));
          }
        }
        out.thresholds.push_back(t);
      }
    }
  }
}

// Training pools the batch-norm output y before the residual sign; the exported model pools the
// residual-sign codes of every pixel (lexicographic maximum, bit 0 most significant). The two
// agree exactly when the code is a non-decreasing function of y: with levels of magnitudes
// m_0, m_1, ... the code's thresholds on y are sums +-m_0 +- m_1 ..., which are ordered like the
// codes only if every magnitude is positive and no larger than the one before (m_1 <= m_0). The
// batch-norm scale's sign needs no condition: the thresholds are on y, and output_sign turns the
// comparison on acc around per channel.
void check_poolable(const Network& network, size_t li) {
  const auto m = network.output_magnitudes(li).cpu().to(torch::kDouble).contiguous();
  const double* mp = m.data_ptr<double>();
  for (int64_t l = 0; l < m.numel(); ++l) {
    if (!(mp[l] > 0))
      throw Error(
          fmt::format("export: layer {} pools its output but level magnitude m{} = {} is "
                      "not positive, so max-pool on codes would differ from training",
                      li, l, mp[l]));
    if (l > 0 && mp[l] > mp[l - 1])
      throw Error(
          fmt::format("export: layer {} pools its output but m{} = {} > m{} = {}, so the "
                      "residual-sign code is not monotone and max-pool on codes would "
                      "differ from training",
                      li, l, mp[l], l - 1, mp[l - 1]));
  }
}

}  // namespace

Model export_model(const Network& network, const InputEncoding& input, const std::string& name,
                   const std::string& metadata_json) {
  if (!network.level_ratios_frozen())
    throw Error("export: level ratios are not frozen yet (the BNN stage has not finished)");
  torch::NoGradGuard no_grad;
  Model model;
  model.name = name;
  model.input = input;
  model.metadata_json = metadata_json;
  const auto& layers = network.layers();
  model.num_classes = static_cast<int>(layers.back().num_outputs);
  for (size_t li = 0; li < layers.size(); ++li) {
    const Layer& layer = layers[li];
    lutnet::Layer out;
    out.num_inputs = static_cast<int>(layer.num_inputs);
    out.input_levels = static_cast<int>(layer.input_levels);
    out.num_outputs = static_cast<int>(layer.num_outputs);
    out.output = layer.is_output ? LayerOutput::kArgmax : LayerOutput::kResidualSign;
    out.output_levels = layer.is_output ? 0 : network.levels();
    out.level_weights = integer_level_weights(network, li);
    if (layer.is_conv) {
      out.kind = LayerKind::kLutConv2d;
      out.kernel_h = out.kernel_w = static_cast<int>(layer.conv.kernel);
      out.stride = static_cast<int>(layer.conv.stride);
    }
    std::vector<int64_t> fan_in;
    if (layer.tiled()) {
      fan_in = export_tiled(layer, out, fmt::format("export: layer {}", li));
    } else {
      fan_in = layer.is_lut ? export_luts(layer, out) : export_xnor(layer, out);
      out.conn_offset.push_back(0);
      for (int64_t o = 0; o < layer.num_outputs; ++o)
        out.conn_offset.push_back(out.conn_offset.back() + static_cast<uint32_t>(fan_in[o]));
    }
    if (layer.is_output && std::count(fan_in.begin(), fan_in.end(), fan_in[0]) != layer.num_outputs)
      throw Error(
          "export: the output layer's classes have different numbers of connections, so "
          "the argmax over integer accumulators would not match the trained network");
    if (!layer.is_output) fold_thresholds(network, li, fan_in, out);
    model.layers.push_back(std::move(out));
    if (layer.is_conv && layer.conv.pooled()) {
      check_poolable(network, li);
      lutnet::Layer pool;
      pool.kind = LayerKind::kMaxPool;
      pool.kernel_h = pool.kernel_w = static_cast<int>(layer.conv.pool);
      pool.stride = static_cast<int>(layer.conv.pool);
      pool.input_levels = network.levels();
      pool.output_levels = network.levels();
      model.layers.push_back(std::move(pool));
    }
  }
  validate(model);
  return model;
}

namespace {

// Popcounts of a binarized (XNOR) layer on rows of input bits [R, N]: [R, O] int64. A kept
// connection fires when its bit equals its weight's sign, so the count is
// x . (mask & positive)^T + (1 - x) . (mask & !positive)^T: two products of 0/1 matrices, exact in
// double (the counts are far below 2^53).
torch::Tensor xnor_popcounts(const Layer& layer, const torch::Tensor& rows) {
  const auto mask = layer.mask.detach().cpu() != 0;
  const auto positive = layer.weight.detach().cpu() >= 0;
  const auto agree_one = (mask & positive).to(torch::kDouble).t();
  const auto agree_zero = (mask & positive.logical_not()).to(torch::kDouble).t();
  const auto x = rows.to(torch::kDouble);
  return (x.matmul(agree_one) + (1 - x).matmul(agree_zero)).round().to(torch::kInt64);
}

// Popcounts of a LUT array on rows of input bits [R, N] (one level): [R, O] int64. Tables come
// from the trained network (binary: sign). Rows are processed in chunks so that the [rows,
// connections] intermediates stay small for conv layers (rows = images x pixels).
torch::Tensor lut_array_popcounts(const Layer& layer, const lutnet::Layer& spec, int64_t level,
                                  const torch::Tensor& rows) {
  if (!layer.is_lut) return xnor_popcounts(layer, rows);
  std::vector<torch::Tensor> perms;
  const auto p = layer.wiring.perms.cpu().to(torch::kLong);
  for (int64_t j = 0; j < p.size(0); ++j) perms.push_back(p[j]);
  const auto cin = layer.wiring.conn_input.cpu().to(torch::kLong);
  // [C * 2^K] bool: the signs of each connection's table (tiled: weight bits applied).
  const auto table =
      (connection_tables(layer, TableMode::kBinary)[level].detach().cpu() >= 0).flatten();
  const auto conn_output = layer.wiring.conn_output.cpu().to(torch::kLong);
  const int64_t conns = cin.numel();
  const int64_t vertices = int64_t{1} << perms.size();
  const int64_t total = rows.size(0);
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 24) / std::max<int64_t>(1, conns));
  auto popcount = torch::zeros({total, spec.num_outputs}, torch::kInt64);
  for (int64_t r0 = 0; r0 < total; r0 += chunk) {
    const auto part = rows.slice(0, r0, std::min(total, r0 + chunk));
    auto address = torch::zeros({part.size(0), layer.num_inputs}, torch::kLong);
    for (size_t j = 0; j < perms.size(); ++j)
      address += part.index_select(1, perms[j]).to(torch::kLong) * (int64_t{1} << j);
    const auto flat =
        torch::arange(conns, torch::kLong) * vertices + address.index_select(1, cin);  // [R, C]
    const auto fired = table.index({flat});
    popcount.slice(0, r0, r0 + part.size(0)).index_add_(1, conn_output, fired.to(torch::kInt64));
  }
  return popcount;
}

// Residual-sign bits of accumulators [R, O]: [R, S, O] bool, by the threshold tree.
torch::Tensor residual_sign_bits(const lutnet::Layer& spec, const torch::Tensor& acc) {
  const int64_t rows = acc.size(0);
  const auto sign =
      torch::tensor(std::vector<int64_t>(spec.output_sign.begin(), spec.output_sign.end()));
  const auto thresholds =
      torch::tensor(spec.thresholds).view({spec.num_outputs, spec.thresholds_per_output()});
  const auto signed_acc = acc * sign.unsqueeze(0);
  std::vector<torch::Tensor> out_bits;
  auto prefix = torch::zeros({rows, spec.num_outputs}, torch::kLong);
  for (int b = 0; b < spec.output_levels; ++b) {
    const auto index = prefix + ((1 << b) - 1);                       // [R, O]
    const auto t = thresholds.gather(1, index.t().contiguous()).t();  // [R, O]
    const auto bit = signed_acc >= t;
    out_bits.push_back(bit);
    prefix = prefix * 2 + bit.to(torch::kLong);
  }
  return torch::stack(out_bits, 1);
}

// Flat indices [P, C*kh*kw] of every output pixel's window into a C x H x W plane.
torch::Tensor window_indices(int64_t channels, int64_t height, int64_t width, int64_t kernel,
                             int64_t stride) {
  const int64_t out_h = (height - kernel) / stride + 1, out_w = (width - kernel) / stride + 1;
  auto index = torch::empty({out_h * out_w, channels * kernel * kernel}, torch::kLong);
  auto ip = index.accessor<int64_t, 2>();
  for (int64_t y = 0; y < out_h; ++y)
    for (int64_t x = 0; x < out_w; ++x)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t ky = 0; ky < kernel; ++ky)
          for (int64_t kx = 0; kx < kernel; ++kx)
            ip[y * out_w + x][(c * kernel + ky) * kernel + kx] =
                (c * height + y * stride + ky) * width + x * stride + kx;
  return index;
}

// Max-pool of residual-sign planes [B, L, C, H, W] (bool) on their codes, bit 0 most significant.
torch::Tensor pool_codes(const torch::Tensor& planes, int64_t window, int64_t stride) {
  const int64_t batch = planes.size(0), levels = planes.size(1), channels = planes.size(2);
  const int64_t height = planes.size(3), width = planes.size(4);
  auto code = torch::zeros({batch, channels, height, width}, torch::kLong);
  for (int64_t l = 0; l < levels; ++l) code = code * 2 + planes.select(1, l).to(torch::kLong);
  const auto index = window_indices(1, height, width, window, stride);  // [P, w*w]
  const int64_t out_h = (height - window) / stride + 1, out_w = (width - window) / stride + 1;
  const auto flat = code.view({batch, channels, height * width});
  const auto best = std::get<0>(
      flat.index_select(2, index.flatten()).view({batch, channels, out_h * out_w, -1}).max(3));
  std::vector<torch::Tensor> bits;
  for (int64_t l = 0; l < levels; ++l)
    bits.push_back(torch::bitwise_and(torch::floor_divide(best, int64_t{1} << (levels - 1 - l)), 1)
                       .to(torch::kBool));
  return torch::stack(bits, 1).view({batch, levels, channels, out_h, out_w});
}

}  // namespace

HardTrace hard_forward(const Network& network, const Model& model, const torch::Tensor& bits) {
  torch::NoGradGuard no_grad;
  HardTrace trace;
  const auto input = bits.to(torch::kBool).cpu();
  const int64_t batch = input.size(0);
  const NetworkShape& shape = network.shape();
  // [B, L, N] for dense layers, [B, L, C, H, W] for conv layers (channel c*T + j of the input).
  torch::Tensor planes = network.layers()[0].is_conv
                             ? input_planes(input.to(torch::kUInt8), shape).to(torch::kBool)
                             : input.unsqueeze(1);
  size_t li = 0;
  for (size_t mi = 0; mi < model.layers.size(); ++mi) {
    const lutnet::Layer& spec = model.layers[mi];
    if (spec.kind == LayerKind::kMaxPool) {
      planes = pool_codes(planes, spec.kernel_h, spec.stride);
      trace.accumulators.emplace_back();
      trace.bits.push_back(planes.flatten(2).to(torch::kUInt8));
      continue;
    }
    const Layer& layer = network.layers().at(li++);
    torch::Tensor rows;  // [R, L, N]
    int64_t pixels = 1, out_h = 1, out_w = 1;
    if (spec.kind == LayerKind::kLutConv2d) {
      const auto index = window_indices(planes.size(2), planes.size(3), planes.size(4),
                                        spec.kernel_h, spec.stride);
      out_h = (planes.size(3) - spec.kernel_h) / spec.stride + 1;
      out_w = (planes.size(4) - spec.kernel_w) / spec.stride + 1;
      pixels = index.size(0);
      rows = planes.flatten(2)
                 .index_select(2, index.flatten())
                 .view({batch, spec.input_levels, pixels, spec.num_inputs})
                 .permute({0, 2, 1, 3})
                 .reshape({batch * pixels, spec.input_levels, spec.num_inputs});
    } else {
      rows = planes.dim() == 5 ? planes.flatten(2) : planes;
    }
    auto acc = torch::zeros({rows.size(0), spec.num_outputs}, torch::kInt64);
    for (int64_t l = 0; l < spec.input_levels; ++l)
      acc += spec.level_weights[l] * lut_array_popcounts(layer, spec, l, rows.select(1, l));
    // Conv accumulators in the reference's order: output channel major, then pixel.
    trace.accumulators.push_back(
        acc.view({batch, pixels, spec.num_outputs}).permute({0, 2, 1}).reshape({batch, -1}));
    if (spec.output == LayerOutput::kArgmax) {
      trace.labels = acc.argmax(1);  // first maximum, like the reference
      break;
    }
    const auto out_bits = residual_sign_bits(spec, acc);  // [R, S, O]
    planes = spec.kind == LayerKind::kLutConv2d
                 ? out_bits.view({batch, out_h, out_w, spec.output_levels, spec.num_outputs})
                       .permute({0, 3, 4, 1, 2})
                       .contiguous()
                 : out_bits;
    trace.bits.push_back(planes.flatten(2).to(torch::kUInt8));
  }
  return trace;
}

}  // namespace lutnet::train
