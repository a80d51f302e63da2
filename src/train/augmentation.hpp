#pragma once
// Random translations of encoded images, against overfitting (the LUT stages in particular): each
// image of a batch moves by its own (dy, dx) in [-max_shift, max_shift]^2; vacated pixels read as
// background (every input bit -1, i.e. pixel 0).
#include <torch/torch.h>

#include <random>
#include <vector>

namespace lutnet::train {

// x: [B, C*H*W*T] +-1 with the model's input order (pixel-major, T bits per pixel).
torch::Tensor random_shift(const torch::Tensor& x, const std::vector<int>& shape,
                           int bits_per_pixel, int max_shift, std::mt19937_64& rng);

// Mirrors each image of the batch left-right with probability 1/2 (one draw per image).
torch::Tensor random_flip(const torch::Tensor& x, const std::vector<int>& shape, int bits_per_pixel,
                          std::mt19937_64& rng);

}  // namespace lutnet::train
