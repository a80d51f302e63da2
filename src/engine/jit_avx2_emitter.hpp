#pragma once
// AVX2 instructions for the layer generator (jit_layer_generator.hpp): 256-bit planes, a small VEX
// encoder of vmovdqa, vpand, vpandn, vpor, vpxor and vpcmpeqd. Without a three-input logic
// instruction a LUT is a circuit of two-input operations (lut_circuit.hpp) on the planes and
// their complements, which the previous layer writes; a full adder is 5 operations, a comparator
// step 1. With 16 registers the generator spills the highest heap columns when they run out.
#include <memory>

#include "engine/jit_layer_generator.hpp"

namespace lutnet::engine::detail {

std::unique_ptr<VectorEmitter> make_avx2_emitter();

}  // namespace lutnet::engine::detail
