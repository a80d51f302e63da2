#include "engine/jit.hpp"

#include "engine/jit_avx2_emitter.hpp"
#include "engine/jit_avx512_emitter.hpp"
#include "engine/jit_layer_generator.hpp"

namespace lutnet::engine::detail {

namespace {
std::unique_ptr<VectorEmitter> emitter_for(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return make_avx512_emitter();
    case Isa::kAvx2:
      return make_avx2_emitter();
    default:
      return nullptr;
  }
}
}  // namespace

bool has_code_generator(Isa isa) { return isa == Isa::kAvx512 || isa == Isa::kAvx2; }

JitLayer jit_layer(Isa isa, const Layer& layer, int acc_bits, size_t plane_stride,
                   const uint64_t* compare, bool write_complements) {
  JitLayer out;
  const std::unique_ptr<VectorEmitter> e = emitter_for(isa);
  int spill_slots = 0;
  if (!e ||
      !generate_layer(layer, acc_bits, plane_stride, compare, write_complements, *e, &spill_slots))
    return out;
  const std::vector<uint8_t>& code = e->assembler().bytes;
  out.code = ExecutableMemory::create(code);
  if (!out.code) return out;
  out.code_bytes = code.size();
  out.fn = reinterpret_cast<JitLayerFn>(const_cast<void*>(out.code->data()));
  out.reads_complements = e->config().reads_complements;
  out.spill_slots = spill_slots;
  out.lut_ops = e->ops().lut;
  out.adder_ops = e->ops().adder;
  out.threshold_ops = e->ops().threshold;
  return out;
}

}  // namespace lutnet::engine::detail
