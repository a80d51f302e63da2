#pragma once
// The integer part of the x86-64 code the layer generators emit (jit_layer_generator.hpp): the
// few general-purpose register instructions of the prologue, the loop and the epilogue, and the
// ModRM encoding of a [base + displacement] memory operand that the vector encoders share.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lutnet::engine::detail {

// General-purpose register numbers as in ModRM/REX.
enum Gpr : int {
  kRax = 0,
  kRcx = 1,
  kRdx = 2,
  kRbx = 3,
  kRsp = 4,
  kRbp = 5,
  kRsi = 6,
  kRdi = 7,
  kR8 = 8,
  kR9 = 9,
  kR10 = 10,
  kR11 = 11,
  kR12 = 12,
  kR13 = 13,
  kR14 = 14,
  kR15 = 15,
};

// [base + disp]: what a vector load, store or operand reads.
struct MemOperand {
  int base = kRdi;
  int32_t disp = 0;
};

class X86Assembler {
 public:
  std::vector<uint8_t> bytes;

  void push(int gpr);
  void pop(int gpr);
  void mov(int dst, int src);                 // 64-bit register copy
  void mov_imm(int dst, int32_t value);       // sign-extended to 64 bits
  void lea(int gpr, int base, int32_t disp);  // base is not rsp or r12
  void add(int gpr, int32_t value);
  void sub(int gpr, int32_t value);
  void and_(int gpr, int32_t value);
  void dec(int gpr);
  void jnz_back(size_t target);  // to the byte offset target
  void vzeroupper();
  void ret();

  void imm32(int64_t value);
  // Overwrites the 32-bit immediate at byte offset `at` (a frame size known only at the end).
  void patch_imm32(size_t at, int32_t value);
  // ModRM (and SIB for an rsp/r12 base) with a 32-bit displacement, or an 8-bit one when disp is
  // a multiple of `disp8_scale` within 8 bits of it (EVEX compresses displacements by the
  // operand size; VEX and legacy encodings use a scale of 1). Never mod = 00.
  void memory(int reg, const MemOperand& m, int disp8_scale);
};

}  // namespace lutnet::engine::detail
