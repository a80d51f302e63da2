#include "train/lut_dense_portable.hpp"

#include <vector>

namespace lutnet::train {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// The K inputs of every connection: [K, C] positions into s's last dimension.
torch::Tensor connection_inputs(const torch::Tensor& perms, const torch::Tensor& conn_input) {
  return perms.to(torch::kLong).index_select(1, conn_input.to(torch::kLong));
}

// Flat indices into tables.view(-1) of every (sample, level, connection)'s active entry:
// (l * C + c) * 2^K + address, the address bit j from input j's sign.
torch::Tensor active_entries(const torch::Tensor& s, const torch::Tensor& inputs, int64_t conns) {
  const int64_t batch = s.size(0), levels = s.size(1), k = inputs.size(0);
  const auto opts = s.options().dtype(torch::kLong);
  const auto bits = (s > 0).to(torch::kLong).index_select(2, inputs.reshape(-1));  // [B, L, K*C]
  const auto weights = torch::pow(2, torch::arange(k, opts)).view({1, 1, k, 1});
  const auto address = (bits.view({batch, levels, k, conns}) * weights).sum(2);  // [B, L, C]
  const auto rows = torch::arange(levels, opts).view({levels, 1}) * conns +
                    torch::arange(conns, opts).view({1, conns});
  return (rows * (int64_t{1} << k)).unsqueeze(0) + address;
}

class LutDensePortableFunction : public torch::autograd::Function<LutDensePortableFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& s,
                               const torch::Tensor& tables, const torch::Tensor& conn_input,
                               const torch::Tensor& conn_output, const torch::Tensor& perms,
                               int64_t num_outputs) {
    const auto inputs = connection_inputs(perms, conn_input);
    const auto entries = active_entries(s, inputs, tables.size(1));
    const auto values = tables.reshape(-1).take(entries);  // [B, L, C]
    const auto outputs = conn_output.to(torch::kLong);
    auto out = torch::zeros({s.size(0), s.size(1), num_outputs}, s.options());
    out.index_add_(2, outputs, values);
    ctx->save_for_backward({tables, inputs, entries, outputs});
    ctx->saved_data["n_in"] = s.size(2);
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto flat_tables = saved[0].reshape(-1);
    const auto& inputs = saved[1];
    const auto& entries = saved[2];
    const auto g = grad_outputs[0].index_select(2, saved[3]);  // [B, L, C]
    auto table_grad = torch::zeros_like(flat_tables);
    table_grad.index_add_(0, entries.reshape(-1), g.reshape(-1));
    auto grad_s =
        torch::zeros({g.size(0), g.size(1), ctx->saved_data["n_in"].toInt()}, g.options());
    // d/ds_j = (T[a | 1<<j] - T[a & ~(1<<j)]) / 2: the row offset is a multiple of 2^K, so the
    // bit operations on the flat index act on the address alone.
    for (int64_t j = 0; j < inputs.size(0); ++j) {
      const int64_t bit = int64_t{1} << j;
      const auto slope = 0.5 * (flat_tables.take(entries.bitwise_or(bit)) -
                                flat_tables.take(entries.bitwise_and(~bit)));
      grad_s.index_add_(2, inputs[j], g * slope);
    }
    return {grad_s,          table_grad.view_as(saved[0]),
            torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor lut_dense_portable(const torch::Tensor& s, const torch::Tensor& tables,
                                 const LutWiring& wiring) {
  return LutDensePortableFunction::apply(s, tables, wiring.conn_input, wiring.conn_output,
                                         wiring.perms, wiring.num_outputs);
}

}  // namespace lutnet::train
