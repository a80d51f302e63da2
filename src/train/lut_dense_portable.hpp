#pragma once
// The learned-LUT dense layer from tensor operations only, for devices other than the CPU (the
// fused kernel in lut_dense_function.cpp is CPU code). The same function and gradients as
// lut_dense: addresses from the sign bits, one gather per connection and level, index_add into
// the outputs; backward scatters into the active table entry and gathers its two neighbours per
// input. It never forms the 2^K vertex products (lut_dense_naive does; that form remains only as
// the tests' oracle).
#include <torch/torch.h>

#include "train/lut_dense_function.hpp"

namespace lutnet::train {

// s: [B, L, N_in] (> 0 means bit 1), tables: [L, C, 2^K] on any device; returns [B, L, N_out].
torch::Tensor lut_dense_portable(const torch::Tensor& s, const torch::Tensor& tables,
                                 const LutWiring& wiring);

}  // namespace lutnet::train
