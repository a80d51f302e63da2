#pragma once
// AVX-512 instructions for the layer generator (jit_layer_generator.hpp): 512-bit planes, a small
// EVEX encoder of vmovdqa64, vpternlogq and vpxorq. A LUT with Ke <= 3 inputs is one vpternlogq
// whose immediate is its truth table, Ke = 4..6 2^(Ke-3) such cofactors and a mux tree; a full
// adder is 2 vpternlogq, a comparator step 1.
#include <memory>

#include "engine/jit_layer_generator.hpp"

namespace lutnet::engine::detail {

std::unique_ptr<VectorEmitter> make_avx512_emitter();

}  // namespace lutnet::engine::detail
