#pragma once
// The part of layer code generation (jit.hpp) that every vector ISA shares. For each output neuron
// the generated function loops over the chunks of a group; the loop body evaluates every LUT of
// the output (VectorEmitter::lut), sums acc = sum_l level_weight[l] * popcount_l in a carry-save
// adder heap in registers, compares acc with the neuron's thresholds (constants of the code), and
// stores the output planes. The ISA-specific parts are a VectorEmitter: the LUTs themselves (one
// vpternlogq per 3 inputs on AVX-512, a circuit of 2-input operations on AVX2) and the handful of
// vector operations the heap and the comparators need.
//
// This code emits bytes; it is compiled without ISA flags.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/lut_function.hpp"
#include "core/model.hpp"
#include "engine/x86_assembler.hpp"

namespace lutnet::engine::detail {

// Thrown during generation when the layer does not fit the generator (registers, displacements);
// the layer then runs on the generic kernel.
struct DoesNotFit {};

// A vector word of the generated code: in a register, or in memory (an input plane read in place,
// or the stack slot of a spilled heap word). `inverted`: it holds the complement of the value, a
// NOT that the adders fold into their operations (an inverter LUT is then just its input plane).
struct Word {
  int reg = -1;
  MemOperand mem{};
  int slot = -1;  // >= 0: a spill slot, freed when the word is consumed
  bool inverted = false;
  bool in_register() const { return reg >= 0; }
};

// Which operands of a half adder hold complements.
enum class HalfAdd { kPlain, kSecondInverted, kBothInverted };

// Vector registers 0..count-1; alloc hands out the lowest free number first. When none is free,
// `spill` (if set) is asked to free one, else the layer does not fit.
class RegisterPool {
 public:
  explicit RegisterPool(int count);
  int alloc();
  void release(int reg);
  std::function<void()> spill;

 private:
  std::vector<int> free_;
};

// The planes one LUT reads: its inputs at the current level, their complements (only where the
// emitter reads complement planes) and the constant planes 0 and 1.
struct LutPlanes {
  MemOperand input[kMaxLutInputs];
  MemOperand complement[kMaxLutInputs];
  MemOperand zeros, ones;
};

// Logic operations per word of samples, by stage (JitLayer).
struct OpCounts {
  double lut = 0, adder = 0, threshold = 0;
};

struct EmitterConfig {
  int word_bytes = 64;   // of a vector register
  int plane_bytes = 64;  // between planes: a multiple of word_bytes, each part its own chunk
  int registers = 30;    // vector registers for values
  bool spills = false;   // heap words may go to a stack frame when registers run out
  bool reads_complements = false;  // LUTs read complement planes (the previous layer writes them)
  // GPRs addressing the input planes: bases[k] = planes + base_offset + k * base_span (short
  // displacements where the encoding has them); further planes are addressed from bases[0].
  std::vector<int> bases;
  int base_span = 1 << 30;
  int base_offset = 0;
};

// The vector operations of one ISA. Registers come from pool(); the emitter may allocate
// temporaries itself. Op counts go to ops().
class VectorEmitter {
 public:
  explicit VectorEmitter(EmitterConfig config);
  virtual ~VectorEmitter() = default;

  // Constant registers, after the integer prologue.
  virtual void prologue() = 0;
  // The word of a LUT on the current chunk; r.num_inputs == 0 only for the constant one.
  virtual Word lut(const ReducedLut& r, const LutPlanes& planes) = 0;
  virtual void constant(int dst, bool ones) = 0;
  virtual void copy(int dst, const Word& src) = 0;  // a load or a register move
  virtual void store(const MemOperand& dst, int src) = 0;
  virtual void store_zero(const MemOperand& dst) = 0;
  // Full adder in place on the register contents: a = a ^ b ^ c (the sum), c = maj(a, b, c) (the
  // carry), where c_inverted: c holds ~c, and the carry is still maj(a, b, ~(register c)); b is
  // dead afterwards.
  virtual void full_add(int a, int b, int c, bool c_inverted) = 0;
  // Half adder in place on the register contents: a = a ^ b, and b = a & b (kPlain), a & ~b
  // (kSecondInverted: b holds a complement) or a | b (kBothInverted: the complement of the carry
  // ~a & ~b).
  virtual void half_add(int a, int b, HalfAdd mode) = 0;
  // Comparator steps dst &= src, dst |= src; NOT (ones: the all-ones plane); hi = sel ? hi : lo.
  virtual void and_(int dst, const Word& src) = 0;
  virtual void or_(int dst, const Word& src) = 0;
  virtual void not_(int reg, const MemOperand& ones) = 0;
  virtual void mux(int hi, int sel, int lo) = 0;

  const EmitterConfig& config() const { return config_; }
  X86Assembler& assembler() { return a_; }
  RegisterPool& pool() { return pool_; }
  const OpCounts& ops() const { return ops_; }

 protected:
  const EmitterConfig config_;
  X86Assembler a_;
  RegisterPool pool_;
  OpCounts ops_;
};

// Generates fn(planes, out, chunks) of JitLayerFn (jit.hpp) for `layer` into e.assembler().
// compare: per output, its thresholds as comparison constants c in [0, 2^acc_bits]. Returns false
// when the layer does not fit the generator; else sets *spill_slots to the stack slots it uses.
bool generate_layer(const Layer& layer, int acc_bits, size_t plane_stride, const uint64_t* compare,
                    bool write_complements, VectorEmitter& e, int* spill_slots);

}  // namespace lutnet::engine::detail
