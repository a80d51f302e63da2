#pragma once
// The learned-LUT dense layer as a custom autograd function (DESIGN.md §2, "The LUT as a trainable
// function"). Connection c reads input conn_input[c] and its K-1 extra inputs
// perms[j][conn_input[c]] (perms[0] is the identity), forms the address
// a = sum_j [s(perms[j][i]) > 0] << j (input 0 is the least significant bit, DESIGN.md §3), and
// contributes tables[l][c][a] to output conn_output[c] of level l.
//
// Forward is a table lookup per connection and level. Backward touches only the K neighbours of
// the active vertex: d/ds_j = (T[a | 1<<j] - T[a & ~(1<<j)]) / 2, and scatters the output gradient
// into T[a]. The 2^K vertex products are never formed.
#include <torch/torch.h>

#include <vector>

namespace lutnet::train {

struct LutWiring {
  torch::Tensor conn_input;   // int32 [C]
  torch::Tensor conn_output;  // int32 [C]
  torch::Tensor perms;        // int32 [K, N_in]; row 0 is the identity
  int64_t num_outputs = 0;
};

// The instruction set of the fused kernel's sample loops: the best this CPU has, unless a test
// picks another (every ISA gives the same bits).
enum class LutKernelIsa { kScalar, kAvx2, kAvx512 };
std::vector<LutKernelIsa> available_lut_kernel_isas();
LutKernelIsa lut_kernel_isa();
void set_lut_kernel_isa(LutKernelIsa isa);  // throws lutnet::Error if the CPU lacks it

// Whether the fused kernels can use more than one thread (built with OpenMP, which
// at::parallel_for needs in the calling code).
bool lut_kernels_run_in_parallel();

// s: [B, L, N_in] with entries +-1 (any float; > 0 means +1). tables: [L, C, 2^K].
// Returns [B, L, N_out]: per output and level, the sum of the selected table entries.
// binary_tables: look up sign(T) (sign(0) = +1) and pass the table gradient straight through
// where |T| <= 1, as lut_dense(s, ste_sign(T)) does, bit for bit, without its tensor passes.
torch::Tensor lut_dense(const torch::Tensor& s, const torch::Tensor& tables,
                        const LutWiring& wiring, bool binary_tables = false);

// The same function written the slow way: all 2^K multilinear vertex products as dense tensor
// operations, differentiated by autograd (how the original Keras code did it). For benchmarks and
// as an independent check of lut_dense's gradients.
torch::Tensor lut_dense_naive(const torch::Tensor& s, const torch::Tensor& tables,
                              const LutWiring& wiring);

}  // namespace lutnet::train
