#include "train/input_selection.hpp"

#include <random>
#include <vector>

#include "core/error.hpp"

namespace lutnet::train {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// The initial choice's lead over the other candidates: about five Adam steps at the LUT stages'
// learning rate of 0.01, so that a candidate takes over only on a consistent gradient.
constexpr float kInitialMargin = 0.05f;
constexpr float kNoise = 1e-3f;  // breaks ties among the other candidates, seeded
// The LUT's own input as its extra input would waste the slot; its gradient is zeroed, so Adam
// never moves it.
constexpr float kUnreachable = -1e4f;

class SelectInputsFunction : public torch::autograd::Function<SelectInputsFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& rows,
                               const torch::Tensor& scores) {
    const auto choice = scores.detach().argmax(2).reshape(-1);  // [(K-1)*N], slot-major
    ctx->save_for_backward({rows, choice});
    return torch::cat({rows, rows.index_select(2, choice)}, 2);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& rows = saved[0];
    const auto& choice = saved[1];
    const int64_t n = rows.size(2), slots = choice.numel() / n;
    const auto& g = grad_outputs[0];  // [R, L, K*N]
    const auto g_chosen = g.slice(2, n);
    torch::Tensor grad_rows;
    if (ctx->needs_input_grad(0)) {
      grad_rows = g.slice(2, 0, n).clone();
      grad_rows.index_add_(2, choice, g_chosen);  // straight through the choice
    }
    // d/d scores[j][i][c] = sum over rows of dL/du_{j,i} * s_c: one matrix product for all slots.
    auto grad_scores = g_chosen.reshape({-1, slots * n}).t().mm(rows.reshape({-1, n}));
    grad_scores = grad_scores.view({slots, n, n});
    grad_scores.diagonal(0, 1, 2).zero_();
    return {grad_rows, grad_scores};
  }
};

}  // namespace

torch::Tensor initial_selection_scores(const torch::Tensor& perms, uint64_t seed) {
  const auto p = perms.cpu().to(torch::kLong).contiguous();
  const int64_t k = p.size(0), n = p.size(1);
  if (k < 2) throw InternalError("initial_selection_scores: a LUT without extra inputs");
  auto scores = torch::empty({k - 1, n, n});
  float* s = scores.data_ptr<float>();
  // Own 53-bit uniform draws rather than std::uniform_real_distribution, whose values differ
  // between standard libraries: the same seed gives the same scores everywhere.
  std::mt19937_64 rng(seed);
  for (int64_t e = 0; e < scores.numel(); ++e)
    s[e] = kNoise * static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-53);
  const int64_t* pp = p.data_ptr<int64_t>();
  for (int64_t j = 1; j < k; ++j)
    for (int64_t i = 0; i < n; ++i) {
      float* row = s + ((j - 1) * n + i) * n;
      row[pp[j * n + i]] = kInitialMargin;
      row[i] = kUnreachable;
    }
  return scores.to(perms.device());
}

torch::Tensor selected_perms(const torch::Tensor& scores) {
  const int64_t n = scores.size(1);
  const auto choice = scores.detach().argmax(2).to(torch::kInt32);
  return torch::cat({torch::arange(n, choice.options()).unsqueeze(0), choice}, 0);
}

torch::Tensor select_inputs(const torch::Tensor& rows, const torch::Tensor& scores) {
  return SelectInputsFunction::apply(rows, scores);
}

torch::Tensor stacked_perms(int64_t k, int64_t n_in, const torch::Device& device) {
  // The fused kernel forms an address for every position of its input (and reads perms as
  // [K, positions]); the positions past N are no connection's own input, so their columns
  // only need to stay in range.
  const auto opts = torch::TensorOptions().dtype(torch::kInt32);
  auto perms = torch::arange(k * n_in, opts).repeat({k, 1});
  perms.slice(1, 0, n_in).copy_(torch::arange(k * n_in, opts).view({k, n_in}));
  return perms.to(device);
}

}  // namespace lutnet::train
