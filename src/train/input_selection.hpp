#pragma once
// Learned choice of a LUT layer's K-1 extra inputs (issue 12), in the style of DWN's learnable
// mapping and shared across output neurons as LUTNet's permutations are: slot j of every LUT
// whose own input is i reads candidate argmax_c scores[j-1][i][c]. The forward pass uses that
// hard choice (so it is what the exported model computes); the backward pass gives score
// (j-1, i, c) the derivative of the loss with respect to moving slot j's input toward candidate
// c's value, sum over rows of dL/du_{j,i} * s_c, where u_{j,i} is the input slot j of input i
// reads. Learned during the real-valued LUT stage, then fixed (Network::fix_input_selection).
#include <torch/torch.h>

#include <cstdint>

namespace lutnet::train {

// The scores that start at `perms`' choice: [K-1, N, N], candidate perms[j][i] of (j-1, i) at
// a margin above small seeded noise, and candidate i itself (the LUT's own input) out of reach.
torch::Tensor initial_selection_scores(const torch::Tensor& perms, uint64_t seed);

// The wiring's perms that the scores choose: int32 [K, N], row 0 the identity.
torch::Tensor selected_perms(const torch::Tensor& scores);

// rows: [R, L, N] (+-1). Returns [R, L, K*N]: the rows followed by, for each slot j = 1..K-1,
// the inputs slot j chooses (position j*N + i holds the input slot j of input i reads), so that
// lut_dense reads them through stacked_perms. The gradient reaches rows (straight through the
// choice) and scores (as above; never the unreachable own-input entries).
torch::Tensor select_inputs(const torch::Tensor& rows, const torch::Tensor& scores);

// int32 [K, K*N]: the wiring's perms that read select_inputs' output; column i < N of row j is
// j*N + i.
torch::Tensor stacked_perms(int64_t k, int64_t n_in, const torch::Device& device);

}  // namespace lutnet::train
