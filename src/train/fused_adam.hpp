#pragma once
// Adam whose update of a CPU parameter is one pass over its elements (moments, step, new value)
// instead of LibTorch's eight tensor passes: the LUT stages update ~2 M table entries per batch,
// and those passes were a third of a step (perf, session 8). Same formula as torch::optim::Adam
// (without weight decay and AMSGrad), same state layout, so checkpoints of either load in the
// other; the rounding is our own (every element alone, no contraction): the same bits on every
// ISA and at every thread count.
#include <torch/torch.h>

#include <vector>

namespace lutnet::train {

class FusedAdam : public torch::optim::Adam {
 public:
  FusedAdam(std::vector<torch::Tensor> params, double learning_rate);

  torch::Tensor step(LossClosure closure = nullptr) override;

  // Drops the gradients instead of zeroing them: the next backward writes them afresh (no
  // zeroing pass, no accumulation pass).
  void release_gradients();

  void set_learning_rate(double learning_rate);
};

}  // namespace lutnet::train
