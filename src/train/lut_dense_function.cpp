#include "train/lut_dense_function.hpp"

#include <cstdint>
#include <vector>

namespace lutnet::train {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Address of every input position's LUT for one sample and level: computed once, since the extra
// input maps are shared by all outputs.
void compute_addresses(const float* s, const int32_t* perms, int64_t k, int64_t n_in,
                       uint8_t* address) {
  for (int64_t i = 0; i < n_in; ++i) {
    unsigned a = 0;
    for (int64_t j = 0; j < k; ++j) a |= static_cast<unsigned>(s[perms[j * n_in + i]] > 0) << j;
    address[i] = static_cast<uint8_t>(a);
  }
}

class LutDenseFunction : public torch::autograd::Function<LutDenseFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& s_in,
                               const torch::Tensor& tables_in, const torch::Tensor& conn_input_in,
                               const torch::Tensor& conn_output_in, const torch::Tensor& perms_in,
                               int64_t num_outputs) {
    const auto s = s_in.contiguous();
    const auto tables = tables_in.contiguous();
    const auto conn_input = conn_input_in.contiguous();
    const auto conn_output = conn_output_in.contiguous();
    const auto perms = perms_in.contiguous();
    const int64_t batch = s.size(0), levels = s.size(1), n_in = s.size(2);
    const int64_t conns = tables.size(1), vertices = tables.size(2), k = perms.size(0);
    auto out = torch::zeros({batch, levels, num_outputs}, s.options());
    auto addresses = torch::empty({batch, levels, n_in}, s.options().dtype(torch::kUInt8));
    const float* sp = s.data_ptr<float>();
    const float* tp = tables.data_ptr<float>();
    const int32_t* cin = conn_input.data_ptr<int32_t>();
    const int32_t* cout = conn_output.data_ptr<int32_t>();
    const int32_t* pp = perms.data_ptr<int32_t>();
    float* op = out.data_ptr<float>();
    uint8_t* ap = addresses.data_ptr<uint8_t>();
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t l = 0; l < levels; ++l) {
        const int64_t row = b * levels + l;
        uint8_t* address = ap + row * n_in;
        compute_addresses(sp + row * n_in, pp, k, n_in, address);
        const float* table = tp + l * conns * vertices;
        float* o = op + row * num_outputs;
        for (int64_t c = 0; c < conns; ++c) o[cout[c]] += table[c * vertices + address[cin[c]]];
      }
    }
    ctx->save_for_backward({tables, conn_input, conn_output, perms, addresses});
    ctx->saved_data["n_in"] = n_in;
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& tables = saved[0];
    const auto& conn_input = saved[1];
    const auto& conn_output = saved[2];
    const auto& perms = saved[3];
    const auto& addresses = saved[4];
    const int64_t n_in = ctx->saved_data["n_in"].toInt();
    const auto grad = grad_outputs[0].contiguous();
    const int64_t batch = grad.size(0), levels = grad.size(1), num_outputs = grad.size(2);
    const int64_t conns = tables.size(1), vertices = tables.size(2), k = perms.size(0);
    auto grad_s = torch::zeros({batch, levels, n_in}, grad.options());
    auto grad_tables = torch::zeros_like(tables);
    const float* gp = grad.data_ptr<float>();
    const float* tp = tables.data_ptr<float>();
    const int32_t* cin = conn_input.data_ptr<int32_t>();
    const int32_t* cout = conn_output.data_ptr<int32_t>();
    const int32_t* pp = perms.data_ptr<int32_t>();
    const uint8_t* ap = addresses.data_ptr<uint8_t>();
    float* gsp = grad_s.data_ptr<float>();
    float* gtp = grad_tables.data_ptr<float>();
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t l = 0; l < levels; ++l) {
        const int64_t row = b * levels + l;
        const uint8_t* address = ap + row * n_in;
        const float* g = gp + row * num_outputs;
        float* gs = gsp + row * n_in;
        const float* table = tp + l * conns * vertices;
        float* gtable = gtp + l * conns * vertices;
        for (int64_t c = 0; c < conns; ++c) {
          const float go = g[cout[c]];
          if (go == 0.0f) continue;
          const int32_t i = cin[c];
          const unsigned a = address[i];
          const float* t = table + c * vertices;
          gtable[c * vertices + a] += go;
          for (int64_t j = 0; j < k; ++j) {
            const unsigned bit = 1u << j;
            gs[pp[j * n_in + i]] += go * 0.5f * (t[a | bit] - t[a & ~bit]);
          }
        }
      }
    }
    return {grad_s,          grad_tables,     torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor lut_dense(const torch::Tensor& s, const torch::Tensor& tables,
                        const LutWiring& wiring) {
  TORCH_CHECK(s.device().is_cpu(),
              "lut_dense: the fused kernel runs on the CPU; use "
              "lut_dense_naive on other devices");
  return LutDenseFunction::apply(s, tables, wiring.conn_input, wiring.conn_output, wiring.perms,
                                 wiring.num_outputs);
}

torch::Tensor lut_dense_naive(const torch::Tensor& s, const torch::Tensor& tables,
                              const LutWiring& wiring) {
  const int64_t k = wiring.perms.size(0);
  const int64_t vertices = int64_t{1} << k;
  const auto conn_input = wiring.conn_input.to(torch::kLong);
  // Inputs of every connection: [B, L, C] per LUT input j.
  torch::Tensor products;  // [B, L, C, 2^K]
  for (int64_t j = 0; j < k; ++j) {
    const auto index = wiring.perms[j].to(torch::kLong).index_select(0, conn_input);
    const auto x = s.index_select(2, index).unsqueeze(-1);  // [B, L, C, 1]
    std::vector<float> sign(vertices);
    for (int64_t p = 0; p < vertices; ++p) sign[p] = (p >> j) & 1 ? 1.0f : -1.0f;
    const auto sigma = torch::tensor(sign, s.options());  // [2^K]
    const auto factor = (1 + sigma * x) * 0.5;            // [B, L, C, 2^K]
    products = products.defined() ? products * factor : factor;
  }
  const auto f = (products * tables.unsqueeze(0)).sum(-1);  // [B, L, C]
  auto out = torch::zeros({s.size(0), s.size(1), wiring.num_outputs}, s.options());
  return out.index_add(2, wiring.conn_output.to(torch::kLong), f);
}

}  // namespace lutnet::train
