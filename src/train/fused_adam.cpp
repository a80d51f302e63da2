#include "train/fused_adam.hpp"

#include <ATen/Parallel.h>

#include <cmath>
#include <string>

#include "core/error.hpp"

namespace lutnet::train {

namespace {

struct AdamStep {
  float beta1, beta2, one_minus_beta1, one_minus_beta2, sqrt_bias_correction2, eps, step_size;
};

AdamStep adam_step(const torch::optim::AdamOptions& options, int64_t step) {
  const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
  const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(step));
  return {static_cast<float>(beta1),
          static_cast<float>(beta2),
          static_cast<float>(1 - beta1),
          static_cast<float>(1 - beta2),
          static_cast<float>(std::sqrt(bias_correction2)),
          static_cast<float>(options.eps()),
          static_cast<float>(options.lr() / bias_correction1)};
}

// Vectorized (the pointers do not alias; -fno-math-errno makes sqrt one instruction) in the
// widest form this CPU has; sqrt and division round exactly in every vector width.
[[gnu::target_clones("avx2", "default")]] void update_range(const AdamStep& a, float* __restrict p,
                                                            const float* __restrict g,
                                                            float* __restrict m,
                                                            float* __restrict v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    m[i] = m[i] * a.beta1 + a.one_minus_beta1 * g[i];
    v[i] = v[i] * a.beta2 + a.one_minus_beta2 * (g[i] * g[i]);
    p[i] = p[i] - a.step_size * (m[i] / (std::sqrt(v[i]) / a.sqrt_bias_correction2 + a.eps));
  }
}

void update_cpu(const AdamStep& a, float* p, const float* g, float* m, float* v, int64_t n) {
  at::parallel_for(0, n, 1 << 15, [&](int64_t i0, int64_t i1) {
    update_range(a, p + i0, g + i0, m + i0, v + i0, i1 - i0);
  });
}

// The same formula as tensor operations, for parameters on other devices.
void update_tensors(const AdamStep& a, torch::Tensor& p, const torch::Tensor& g, torch::Tensor& m,
                    torch::Tensor& v) {
  m.mul_(a.beta1).add_(g, a.one_minus_beta1);
  v.mul_(a.beta2).addcmul_(g, g, a.one_minus_beta2);
  p.addcdiv_(m, v.sqrt() / a.sqrt_bias_correction2 + a.eps, -a.step_size);
}

}  // namespace

FusedAdam::FusedAdam(std::vector<torch::Tensor> params, double learning_rate)
    : torch::optim::Adam(std::move(params), torch::optim::AdamOptions(learning_rate)) {}

torch::Tensor FusedAdam::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = closure ? closure() : torch::Tensor();
  for (auto& group : param_groups()) {
    const auto& options = static_cast<const torch::optim::AdamOptions&>(group.options());
    if (options.weight_decay() != 0 || options.amsgrad())
      throw InternalError("FusedAdam: weight decay and AMSGrad are not implemented");
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const std::string key = c10::guts::to_string(p.unsafeGetTensorImpl());
      auto& slot = state_[key];
      if (!slot) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& state = static_cast<torch::optim::AdamParamState&>(*slot);
      state.step(state.step() + 1);
      const AdamStep a = adam_step(options, state.step());
      auto m = state.exp_avg(), v = state.exp_avg_sq();
      const auto g = p.grad().contiguous();
      if (p.is_cpu() && p.scalar_type() == torch::kFloat && p.is_contiguous() &&
          m.is_contiguous() && v.is_contiguous())
        update_cpu(a, p.data_ptr<float>(), g.data_ptr<float>(), m.data_ptr<float>(),
                   v.data_ptr<float>(), p.numel());
      else
        update_tensors(a, p, g, m, v);
    }
  }
  return loss;
}

void FusedAdam::release_gradients() {
  for (auto& group : param_groups())
    for (auto& p : group.params()) p.mutable_grad() = torch::Tensor();
}

void FusedAdam::set_learning_rate(double learning_rate) {
  for (auto& group : param_groups())
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(learning_rate);
}

}  // namespace lutnet::train
