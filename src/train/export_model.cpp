#include "train/export_model.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"

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
    std::vector<int64_t> fan_in(layer.num_outputs, 0);
    out.conn_offset.push_back(0);
    if (layer.is_lut) {
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
        for (int64_t j = 0; j < k; ++j) out.lut_inputs.push_back(pp[j * n_in + ci[c]]);
        for (int64_t l = 0; l < layer.input_levels; ++l) {
          uint64_t table = 0;
          for (int64_t p = 0; p < vertices; ++p)
            table |= static_cast<uint64_t>(tb[(l * conns + c) * vertices + p]) << p;
          out.tables.push_back(table);
        }
      }
    } else {
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
    }
    for (int64_t o = 0; o < layer.num_outputs; ++o)
      out.conn_offset.push_back(out.conn_offset.back() + static_cast<uint32_t>(fan_in[o]));
    if (layer.is_output && std::count(fan_in.begin(), fan_in.end(), fan_in[0]) != layer.num_outputs)
      throw Error(
          "export: the output layer's classes have different numbers of connections, so "
          "the argmax over integer accumulators would not match the trained network");

    if (!layer.is_output) {
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
        const double a =
            bn_w[o].item<double>() / std::sqrt(var[o].item<double>() + kBatchNormEpsilon);
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
    model.layers.push_back(std::move(out));
  }
  validate(model);
  return model;
}

HardTrace hard_forward(const Network& network, const Model& model, const torch::Tensor& bits) {
  torch::NoGradGuard no_grad;
  HardTrace trace;
  torch::Tensor planes = bits.to(torch::kBool).unsqueeze(1).cpu();  // [B, 1, N0]
  const int64_t batch = planes.size(0);
  for (size_t li = 0; li < model.layers.size(); ++li) {
    const lutnet::Layer& spec = model.layers[li];
    const Layer& layer = network.layers()[li];
    auto acc = torch::zeros({batch, spec.num_outputs}, torch::kInt64);
    for (int64_t l = 0; l < spec.input_levels; ++l) {
      const auto plane = planes.select(1, l);  // [B, N_in] bool
      torch::Tensor fired;                     // [B, C] bool
      torch::Tensor conn_output;
      if (layer.is_lut) {
        const auto perms = layer.wiring.perms.cpu().to(torch::kLong);
        const auto cin = layer.wiring.conn_input.cpu().to(torch::kLong);
        auto address = torch::zeros({batch, layer.num_inputs}, torch::kLong);
        for (int64_t j = 0; j < perms.size(0); ++j)
          address += plane.index_select(1, perms[j]).to(torch::kLong) * (int64_t{1} << j);
        const auto table = layer.tables[l].detach().cpu() >= 0;  // [C, 2^K] bool
        const int64_t vertices = table.size(1);
        const auto flat = torch::arange(cin.numel(), torch::kLong) * vertices +
                          address.index_select(1, cin);  // [B, C]
        fired = table.flatten().index({flat});
        conn_output = layer.wiring.conn_output.cpu().to(torch::kLong);
      } else {
        const auto nz = layer.mask.cpu().nonzero();  // [C, 2] (o, i), row-major order
        conn_output = nz.select(1, 0);
        const auto positive =
            (layer.weight.detach().cpu() >= 0).index({nz.select(1, 0), nz.select(1, 1)});  // [C]
        fired = plane.index_select(1, nz.select(1, 1)).eq(positive.unsqueeze(0));          // XNOR
      }
      const auto popcount = torch::zeros({batch, spec.num_outputs}, torch::kInt64)
                                .index_add_(1, conn_output, fired.to(torch::kInt64));
      acc += spec.level_weights[l] * popcount;
    }
    trace.accumulators.push_back(acc);
    if (spec.output == LayerOutput::kArgmax) {
      trace.labels = acc.argmax(1);  // first maximum, like the reference
      break;
    }
    const auto sign =
        torch::tensor(std::vector<int64_t>(spec.output_sign.begin(), spec.output_sign.end()));
    const auto thresholds =
        torch::tensor(spec.thresholds).view({spec.num_outputs, spec.thresholds_per_output()});
    const auto signed_acc = acc * sign.unsqueeze(0);
    std::vector<torch::Tensor> out_bits;
    auto prefix = torch::zeros({batch, spec.num_outputs}, torch::kLong);
    for (int b = 0; b < spec.output_levels; ++b) {
      const auto index = prefix + ((1 << b) - 1);  // [B, N]
      const auto t =
          thresholds.unsqueeze(0).expand({batch, -1, -1}).gather(2, index.unsqueeze(2)).squeeze(2);
      const auto bit = signed_acc >= t;
      out_bits.push_back(bit);
      prefix = prefix * 2 + bit.to(torch::kLong);
    }
    planes = torch::stack(out_bits, 1);
    trace.bits.push_back(planes.to(torch::kUInt8));
  }
  return trace;
}

}  // namespace lutnet::train
