#pragma once
// Generated machine code for a layer (docs/engine.md, "Generated code"). A K-LUT on bit planes is
// a few logic instructions whose operands (and on AVX-512 the vpternlogq immediates) are only
// known when the model is; generating the code at compile time gives every LUT its own
// instructions and plane displacements, so the loop, the offset records and the leaf loads of
// the generic kernel disappear. The shared generator is jit_layer_generator.hpp, the ISAs'
// instructions jit_avx512_emitter.hpp and jit_avx2_emitter.hpp.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/model.hpp"
#include "engine/engine.hpp"
#include "engine/executable_memory.hpp"

namespace lutnet::engine::detail {

// fn(planes, out, chunks): chunk c's input planes start at planes + c * plane_stride (plane p at
// + p * word_bytes, layout of plan.hpp). Hidden layers write their output bit planes (and
// complements when asked) to the plane buffer at out + c * plane_stride, all but planes 0 and 1;
// the argmax layer writes accumulators at out + c * num_outputs * acc_bits * word_bytes, output
// o's plane b at + (o * acc_bits + b) * word_bytes. Each output runs over all chunks before the
// next, so the loop body of one output stays in the op cache.
using JitLayerFn = void (*)(const char* planes, char* out, size_t chunks);

struct JitLayer {
  std::unique_ptr<ExecutableMemory> code;
  JitLayerFn fn = nullptr;
  size_t code_bytes = 0;
  bool reads_complements = false;  // the input buffer must hold complement planes
  int spill_slots = 0;             // stack slots of adder-heap words spilled from registers
  // Logic operations per word of samples, in operations on whole words (on AVX2 a word is two
  // ymm registers, each half run by its own pass of the code): of the LUTs, the adder heap, and
  // the comparators, residual-sign muxes and complements.
  double lut_ops = 0;
  double adder_ops = 0;
  double threshold_ops = 0;
};

// Whether the engine generates code for this ISA (AVX-512 and AVX2).
bool has_code_generator(Isa isa);

// Generates `layer` for the words of `isa`. compare: per output, its thresholds as comparison
// constants c in [0, 2^acc_bits] (output bit = acc >= c, inverted for a negative output sign).
// Returns an empty JitLayer when the ISA has no generator, the layer does not fit the generator,
// or executable memory is unavailable; the caller then uses the generic kernel.
JitLayer jit_layer(Isa isa, const Layer& layer, int acc_bits, size_t plane_stride,
                   const uint64_t* compare, bool write_complements);

}  // namespace lutnet::engine::detail
