#include "engine/jit_avx512_emitter.hpp"

#include <cstdint>
#include <vector>

namespace lutnet::engine::detail {

namespace {

constexpr int kZero = 30, kOnes = 31;  // zmm registers holding constants
constexpr int kAllocatable = 30;       // zmm0..zmm29 for values

// vpternlogq immediates are truth tables over (dst, src2, src3) = (a, b, c): bit 4a + 2b + c.
constexpr uint8_t kMuxHiSelLo = 0xE2;  // b ? a : c
constexpr uint8_t kMuxMemSel = 0xE4;   // c ? a : b
constexpr uint8_t kXor3 = 0x96, kXorAB = 0x3C, kOnesImm = 0xFF, kNot = 0x0F;
// The immediate of f(a, b, c).
template <class F>
constexpr uint8_t immediate(F f) {
  unsigned imm = 0;
  for (unsigned i = 0; i < 8; ++i) imm |= (f((i >> 2) & 1, (i >> 1) & 1, i & 1) ? 1u : 0u) << i;
  return static_cast<uint8_t>(imm);
}
constexpr bool maj(unsigned a, unsigned b, unsigned c) { return a + b + c >= 2; }
// With s = a ^ b ^ c in place of a: carry(c, s, b) = maj(a, b, c) = (c & b) | ((c ^ b) & ~s), and
// with c holding ~c, maj(a, b, ~c).
constexpr uint8_t kCarryFromSum = 0xB2;
static_assert(kCarryFromSum ==
              immediate([](unsigned c, unsigned s, unsigned b) { return maj(s ^ b ^ c, b, c); }));
constexpr uint8_t kCarryFromSumInverted =
    immediate([](unsigned c, unsigned s, unsigned b) { return maj(s ^ b ^ c, b, c ^ 1); });
constexpr uint8_t kAndNotB = 0x30;   // a & ~b
constexpr uint8_t kNotAAndB = 0x0C;  // ~a & b
constexpr uint8_t kAndAB = 0xC0, kOrAB = 0xFC;
constexpr uint8_t kAndAC = 0xA0, kOrAC = 0xFA;

// Just enough of the EVEX encoding for 512-bit vmovdqa64, vpternlogq and vpxorq.
class Evex {
 public:
  explicit Evex(X86Assembler& a) : a_(a) {}

  void load(int zmm, const MemOperand& m) { op(0x01, 0x6F, zmm, 0, m); }
  void store(const MemOperand& m, int zmm) { op(0x01, 0x7F, zmm, 0, m); }
  void move(int dst, int src) { op_reg(0x01, 0x6F, dst, 0, src); }
  void tern(int dst, int b, int c, uint8_t imm) {
    op_reg(0x03, 0x25, dst, b, c);
    a_.bytes.push_back(imm);
  }
  void tern_mem(int dst, int b, const MemOperand& m, uint8_t imm) {
    op(0x03, 0x25, dst, b, m);
    a_.bytes.push_back(imm);
  }
  void xor_self(int zmm) { op_reg(0x01, 0xEF, zmm, zmm, zmm); }

 private:
  // EVEX.512.66.<map>.W1: P0 = R X B R' 0 0 m m (inverted R/X/B/R'), P1 = W vvvv 1 pp (inverted
  // vvvv), P2 = z L'L b V' aaa (inverted V').
  void prefix(int map, int reg, int vvvv, int rm, bool rm_is_vector) {
    uint8_t p0 = static_cast<uint8_t>(map);
    if (!(reg & 8)) p0 |= 0x80;
    if (!rm_is_vector || !(rm & 16)) p0 |= 0x40;
    if (!(rm & 8)) p0 |= 0x20;
    if (!(reg & 16)) p0 |= 0x10;
    const uint8_t p1 = static_cast<uint8_t>(0x80 | ((~vvvv & 15) << 3) | 0x04 | 0x01);
    const uint8_t p2 = static_cast<uint8_t>(0x40 | ((vvvv & 16) ? 0 : 0x08));
    a_.bytes.insert(a_.bytes.end(), {0x62, p0, p1, p2});
  }
  void op_reg(int map, uint8_t opcode, int reg, int vvvv, int rm) {
    prefix(map, reg, vvvv, rm, true);
    a_.bytes.push_back(opcode);
    a_.bytes.push_back(static_cast<uint8_t>(0xC0 | ((reg & 7) << 3) | (rm & 7)));
  }
  // Displacements compressed by the 64-byte operand size.
  void op(int map, uint8_t opcode, int reg, int vvvv, const MemOperand& m) {
    prefix(map, reg, vvvv, m.base, false);
    a_.bytes.push_back(opcode);
    a_.memory(reg, m, 64);
  }

  X86Assembler& a_;
};

// Truth table of 3 inputs (x0 + 2 x1 + 4 x2) as a vpternlogq immediate with (a, b, c) = (x0, x1,
// x2).
uint8_t ternary_immediate(unsigned table8) {
  unsigned imm = 0;
  for (unsigned a = 0; a < 2; ++a)
    for (unsigned b = 0; b < 2; ++b)
      for (unsigned c = 0; c < 2; ++c)
        imm |= ((table8 >> (a + 2 * b + 4 * c)) & 1u) << (4 * a + 2 * b + c);
  return static_cast<uint8_t>(imm);
}

EmitterConfig avx512_config() {
  EmitterConfig c;
  c.word_bytes = 64;
  c.plane_bytes = 64;
  c.registers = kAllocatable;
  c.spills = false;
  c.reads_complements = false;  // a NOT is one vpternlogq; complement planes would cost stores
  // Plane bases every 16 KiB from planes + 8 KiB, so most planes take a one-byte displacement.
  c.bases = {kRdi, kRax, kRcx, kRdx, kR8, kR9, kR10};
  c.base_span = 16384;
  c.base_offset = 8192;
  return c;
}

class Avx512Emitter final : public VectorEmitter {
 public:
  Avx512Emitter() : VectorEmitter(avx512_config()), v_(a_) {}

  void prologue() override {
    v_.xor_self(kZero);
    v_.tern(kOnes, kOnes, kOnes, kOnesImm);
  }
  Word lut(const ReducedLut& r, const LutPlanes& p) override {
    return Word{r.num_inputs <= 3 ? small_lut(r, p) : cofactor_lut(r, p)};
  }
  void constant(int dst, bool ones) override { v_.move(dst, ones ? kOnes : kZero); }
  void copy(int dst, const Word& src) override {
    if (src.in_register()) {
      v_.move(dst, src.reg);
    } else {
      v_.load(dst, src.mem);
    }
  }
  void store(const MemOperand& dst, int src) override { v_.store(dst, src); }
  void store_zero(const MemOperand& dst) override { v_.store(dst, kZero); }
  // Sum into a, then the carry into c from (c, sum, b): no register copy.
  // Sum into a, then the carry into c from (c, sum, b): no register copy. The LUTs here never
  // produce inverted words (a NOT folds into their immediates), but the immediates cover them.
  void full_add(int a, int b, int c, bool c_inverted) override {
    v_.tern(a, b, c, kXor3);
    v_.tern(c, a, b, c_inverted ? kCarryFromSumInverted : kCarryFromSum);
    ops_.adder += 2;
  }
  // (b, a ^ b, b): b & ~x = a & b; ~b & x = a & ~b; b | x = a | b.
  void half_add(int a, int b, HalfAdd mode) override {
    v_.tern(a, b, b, kXorAB);
    v_.tern(b, a, b,
            mode == HalfAdd::kPlain            ? kAndNotB
            : mode == HalfAdd::kSecondInverted ? kNotAAndB
                                               : kOrAB);
    ops_.adder += 2;
  }
  void and_(int dst, const Word& src) override { logic(dst, src, kAndAB, kAndAC); }
  void or_(int dst, const Word& src) override { logic(dst, src, kOrAB, kOrAC); }
  void not_(int reg, const MemOperand&) override {
    v_.tern(reg, reg, reg, kNot);
    ++ops_.threshold;
  }
  void mux(int hi, int sel, int lo) override {
    v_.tern(hi, sel, lo, kMuxHiSelLo);
    ++ops_.threshold;
  }

 private:
  void not_adder(int reg) {
    v_.tern(reg, reg, reg, kNot);
    ++ops_.adder;
  }
  void logic(int dst, const Word& src, uint8_t imm_reg, uint8_t imm_mem) {
    if (src.in_register()) {
      v_.tern(dst, src.reg, src.reg, imm_reg);
    } else {
      v_.tern_mem(dst, dst, src.mem, imm_mem);
    }
    ++ops_.threshold;
  }
  void tern(int dst, int b, int c, uint8_t imm) {
    v_.tern(dst, b, c, imm);
    ++ops_.lut;
  }
  void tern_mem(int dst, int b, const MemOperand& m, uint8_t imm) {
    v_.tern_mem(dst, b, m, imm);
    ++ops_.lut;
  }

  // Ke <= 3: one vpternlogq (none for a wire). Complement planes are not read: ~x0 is one NOT.
  int small_lut(const ReducedLut& r, const LutPlanes& p) {
    const uint64_t g = r.table;
    const int v = pool_.alloc();
    if (r.num_inputs == 0) {
      v_.move(v, kOnes);
      return v;
    }
    v_.load(v, p.input[0]);
    if (r.num_inputs == 1) {
      if (g == 0b01) tern(v, v, v, kNot);
      return v;
    }
    if (r.num_inputs == 2) {  // (a, b, c) = (x0, x0, x1): bit 4a + 2b + c = g[a + 2c]
      unsigned imm = 0;
      for (unsigned a = 0; a < 2; ++a)
        for (unsigned b = 0; b < 2; ++b)
          for (unsigned c = 0; c < 2; ++c) imm |= ((g >> (a + 2 * c)) & 1u) << (4 * a + 2 * b + c);
      tern_mem(v, v, p.input[1], static_cast<uint8_t>(imm));
      return v;
    }
    const int x1 = pool_.alloc();
    v_.load(x1, p.input[1]);
    tern_mem(v, x1, p.input[2], ternary_immediate(static_cast<unsigned>(g)));
    pool_.release(x1);
    return v;
  }

  // Ke >= 4: 2^(Ke-3) cofactors over (x0, x1, x2), then a mux tree over x3.. (hi into lo).
  // Loads are the scarce resource once the code runs from the op cache: x2 is loaded once and
  // x0 copied for every cofactor but the last.
  int cofactor_lut(const ReducedLut& r, const LutPlanes& p) {
    const uint64_t g = r.table;
    const int v = pool_.alloc();
    v_.load(v, p.input[0]);
    const int x1 = pool_.alloc();
    v_.load(x1, p.input[1]);
    const int x2 = pool_.alloc();
    v_.load(x2, p.input[2]);
    const int cofactors = 1 << (r.num_inputs - 3);
    std::vector<int> cof(static_cast<size_t>(cofactors));
    for (int m = 0; m < cofactors; ++m) {
      const auto table8 = static_cast<unsigned>((g >> (8 * m)) & 0xFF);
      const int dst = m + 1 < cofactors ? pool_.alloc() : v;
      if (dst != v) v_.move(dst, v);
      tern(dst, x1, x2, ternary_immediate(table8));
      cof[static_cast<size_t>(m)] = dst;
    }
    pool_.release(x1);
    pool_.release(x2);
    for (int j = 3; j < r.num_inputs; ++j) {
      const size_t n = cof.size() / 2;
      if (n == 1) {  // one mux: the selector as the memory operand
        tern_mem(cof[1], cof[0], p.input[j], kMuxMemSel);
        pool_.release(cof[0]);
        return cof[1];
      }
      const int s = pool_.alloc();
      v_.load(s, p.input[j]);
      for (size_t q = 0; q < n; ++q) {
        tern(cof[2 * q + 1], s, cof[2 * q], kMuxHiSelLo);
        pool_.release(cof[2 * q]);
        cof[q] = cof[2 * q + 1];
      }
      cof.resize(n);
      pool_.release(s);
    }
    return cof[0];
  }

  Evex v_;
};

}  // namespace

std::unique_ptr<VectorEmitter> make_avx512_emitter() { return std::make_unique<Avx512Emitter>(); }

}  // namespace lutnet::engine::detail
