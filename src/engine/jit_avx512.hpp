#pragma once
// A small AVX-512 code generator for a layer. A K-LUT on bit planes is at best a
// few vpternlogq whose 8-bit immediates are pieces of its truth table, and those immediates are
// only known when the model is; generating the code at compile time gives every LUT its own
// immediates and plane displacements, so the loop, the offset records and the leaf loads of the
// generic kernel disappear. For each output neuron the generated function sums
// acc = sum_l level_weight[l] * popcount_l in a carry-save adder heap in registers and compares
// it with the neuron's thresholds (constants baked into the code).
//
// This file emits machine code bytes; it is compiled without ISA flags, and its code is called
// only from the AVX-512 kernels.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/model.hpp"

namespace lutnet::engine::detail {

// Executable memory holding generated functions (munmap on destruction).
class JitCode {
 public:
  JitCode(void* memory, size_t size) : memory_(memory), size_(size) {}
  JitCode(const JitCode&) = delete;
  JitCode& operator=(const JitCode&) = delete;
  ~JitCode();
  const void* data() const { return memory_; }
  size_t size() const { return size_; }

 private:
  void* memory_;
  size_t size_;
};

// fn(planes, out, chunks): chunk c's input planes start at planes + c * plane_stride (plane p at
// + p * 64, layout of plan.hpp). Hidden layers write their output bit planes (and complements
// when asked) to the plane buffer at out + c * plane_stride, all but planes 0 and 1; the argmax
// layer writes accumulators at out + c * num_outputs * acc_bits * 64, output o's plane b at
// + (o * acc_bits + b) * 64. Each output runs over all chunks before the next, so the loop body
// of one output stays in the op cache.
using JitLayerFn = void (*)(const char* planes, char* out, size_t chunks);

struct JitLayer {
  std::unique_ptr<JitCode> code;
  JitLayerFn fn = nullptr;
  size_t code_bytes = 0;
  double lut_ops = 0;        // vpternlogq of the LUTs per word of samples
  double adder_ops = 0;      // vpternlogq of the adder heap per word of samples
  double threshold_ops = 0;  // vpternlogq of comparators, residual-sign muxes, complements
};

// Generates `layer` for 512-bit planes. compare: per output, its thresholds as comparison
// constants c in [0, 2^acc_bits] (output bit = acc >= c, inverted for a negative output sign).
// Returns an empty JitLayer when the layer does not fit the generator (accumulators too wide for
// the registers) or executable memory is unavailable; the caller then uses the generic kernel.
JitLayer jit_avx512_layer(const Layer& layer, int acc_bits, size_t plane_stride,
                          const uint64_t* compare, bool write_complements);

}  // namespace lutnet::engine::detail
