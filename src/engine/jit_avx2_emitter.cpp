#include "engine/jit_avx2_emitter.hpp"

#include <cstdint>
#include <utility>
#include <vector>

#include "engine/lut_circuit.hpp"

namespace lutnet::engine::detail {

namespace {

constexpr int kRegisters = 16;  // ymm0..ymm15, none reserved: constants are planes 0 and 1

// Opcodes of the 0F map, 66 prefix, 256 bits.
constexpr uint8_t kLoad = 0x6F, kStore = 0x7F, kAnd = 0xDB, kAndNot = 0xDF, kOr = 0xEB, kXor = 0xEF,
                  kCompareEq = 0x76;

// Just enough of the VEX encoding for 256-bit vmovdqa and the logic instructions:
// dst = op(src1, src2) with src2 a register or [base + disp].
class Vex {
 public:
  explicit Vex(X86Assembler& a) : a_(a) {}

  void op(uint8_t opcode, int dst, int src1, int src2) {
    prefix(dst, src1, src2);
    a_.bytes.push_back(opcode);
    a_.bytes.push_back(static_cast<uint8_t>(0xC0 | ((dst & 7) << 3) | (src2 & 7)));
  }
  void op(uint8_t opcode, int dst, int src1, const MemOperand& m) {
    prefix(dst, src1, m.base);
    a_.bytes.push_back(opcode);
    a_.memory(dst, m, 1);
  }
  void load(int dst, const MemOperand& m) { op(kLoad, dst, 0, m); }
  void store(const MemOperand& m, int src) { op(kStore, src, 0, m); }
  void move(int dst, int src) { op(kLoad, dst, 0, src); }

 private:
  // Two bytes (C5: R vvvv L pp, inverted R and vvvv) when the r/m register needs no extension
  // bit, else three (C4: R X B 00001, W vvvv L pp). vvvv = 0 (1111 inverted) when unused.
  void prefix(int reg, int vvvv, int rm) {
    const uint8_t tail = static_cast<uint8_t>(((~vvvv & 15) << 3) | 0x04 | 0x01);
    const uint8_t r = (reg & 8) ? 0 : 0x80;
    if (!(rm & 8)) {
      a_.bytes.insert(a_.bytes.end(), {0xC5, static_cast<uint8_t>(r | tail)});
    } else {
      a_.bytes.insert(a_.bytes.end(), {0xC4, static_cast<uint8_t>(r | 0x40 | 0x01), tail});
    }
  }

  X86Assembler& a_;
};

uint8_t opcode_of(GateOp op) {
  switch (op) {
    case GateOp::kAnd:
      return kAnd;
    case GateOp::kOr:
      return kOr;
    case GateOp::kXor:
      return kXor;
    case GateOp::kAndNot:
      return kAndNot;
  }
  return kAnd;
}

EmitterConfig avx2_config() {
  EmitterConfig c;
  c.word_bytes = 32;
  c.plane_bytes = 64;  // the two halves of a 512-bit word (kernels_avx2.cpp)
  c.registers = kRegisters;
  c.spills = true;
  // Complement planes would make a NOT of an input free, but double the planes a layer touches:
  // the input then no longer stays in L1, which costs more (MNIST shape: 1.75 vs 1.3 ns per LUT
  // and 256-bit word) than the XORs with the ones plane that circuits need without them. A NOT
  // of the output (inverters included) is free anyway: inverted words.
  c.reads_complements = false;
  // VEX has no compressed displacements: one base, planes 0..3 (the constants 0 and 1 among them)
  // within a one-byte displacement.
  c.bases = {kRdi};
  c.base_offset = 128;
  return c;
}

class Avx2Emitter final : public VectorEmitter {
 public:
  Avx2Emitter() : VectorEmitter(avx2_config()), v_(a_) {}

  void prologue() override {}
  Word lut(const ReducedLut& r, const LutPlanes& p) override;
  void constant(int dst, bool ones) override {
    v_.op(ones ? kCompareEq : kXor, dst, dst, dst);  // dependency-breaking idioms
  }
  void copy(int dst, const Word& src) override {
    if (src.in_register()) {
      v_.move(dst, src.reg);
    } else {
      v_.load(dst, src.mem);
    }
  }
  void store(const MemOperand& dst, int src) override { v_.store(dst, src); }
  void store_zero(const MemOperand& dst) override {
    const int t = pool_.alloc();
    constant(t, false);
    v_.store(dst, t);
    pool_.release(t);
  }
  // In place without a temporary: with x = a ^ b, a & b = ~x & b; then the sum s = x ^ c, and
  // x & c = ~s & c (for an inverted c, x & ~c = ~c & s); carry = (x & c) | (a & b).
  void full_add(int a, int b, int c, bool c_inverted) override {
    v_.op(kXor, a, a, b);
    v_.op(kAndNot, b, a, b);
    v_.op(kXor, a, a, c);
    if (c_inverted) {
      v_.op(kAndNot, c, c, a);
    } else {
      v_.op(kAndNot, c, a, c);
    }
    v_.op(kOr, c, c, b);
    ops_.adder += 5;
  }
  // With x = a ^ b in a: a & b = ~x & b, a & ~b = ~b & x, ~a & ~b = ~(x | b).
  void half_add(int a, int b, HalfAdd mode) override {
    v_.op(kXor, a, a, b);
    switch (mode) {
      case HalfAdd::kPlain:
        v_.op(kAndNot, b, a, b);
        break;
      case HalfAdd::kSecondInverted:
        v_.op(kAndNot, b, b, a);
        break;
      case HalfAdd::kBothInverted:
        v_.op(kOr, b, a, b);
        break;
    }
    ops_.adder += 2;
  }
  void and_(int dst, const Word& src) override { logic(kAnd, dst, src); }
  void or_(int dst, const Word& src) override { logic(kOr, dst, src); }
  void not_(int reg, const MemOperand& ones) override {
    v_.op(kXor, reg, reg, ones);
    ++ops_.threshold;
  }
  void mux(int hi, int sel, int lo) override {  // lo ^ ((hi ^ lo) & sel)
    v_.op(kXor, hi, hi, lo);
    v_.op(kAnd, hi, hi, sel);
    v_.op(kXor, hi, hi, lo);
    ops_.threshold += 3;
  }

 private:
  void logic(uint8_t opcode, int dst, const Word& src) {
    if (src.in_register()) {
      v_.op(opcode, dst, dst, src.reg);
    } else {
      v_.op(opcode, dst, dst, src.mem);
    }
    ++ops_.threshold;
  }
  int circuit(const LutCircuit& c, const LutPlanes& p);

  Vex v_;
};

// A constant one, a wire and an inverter are planes, read where the word is consumed; other LUTs
// are circuits, of the function or of its complement, whichever is shorter (the adders take the
// complement for free).
Word Avx2Emitter::lut(const ReducedLut& r, const LutPlanes& p) {
  if (r.num_inputs == 0) return Word{-1, p.ones};
  const bool complements = config_.reads_complements;
  if (r.num_inputs == 1 && r.table == 0b10) return Word{-1, p.input[0]};
  if (r.num_inputs == 1)
    return complements ? Word{-1, p.complement[0]} : Word{-1, p.input[0], -1, true};
  const uint64_t mask = r.num_inputs == 6 ? ~uint64_t{0} : (uint64_t{1} << (1 << r.num_inputs)) - 1;
  const LutCircuit plain = lut_circuit(r.table, r.num_inputs, complements);
  const LutCircuit inverted = lut_circuit(~r.table & mask, r.num_inputs, complements);
  if (inverted.gates.size() < plain.gates.size()) return Word{circuit(inverted, p), {}, -1, true};
  return Word{circuit(plain, p)};
}

// Emits the gates in order. Operand a of a gate must be a register (vpandn negates src1), b may
// be a plane in memory; a plane read by several gates is loaded once. The result reuses the
// register of an operand read for the last time.
int Avx2Emitter::circuit(const LutCircuit& c, const LutPlanes& p) {
  const int n = c.num_inputs;
  const size_t nodes = static_cast<size_t>(c.first_gate()) + c.gates.size();
  std::vector<int> uses(nodes, 0), reg(nodes, -1);
  for (const Gate& g : c.gates) {
    ++uses[g.a];
    ++uses[g.b];
  }
  auto plane = [&](int node) {
    return node < n            ? p.input[node]
           : node < 2 * n      ? p.complement[node - n]
           : node == c.zeros() ? p.zeros
                               : p.ones;
  };
  auto load = [&](int node) {
    auto& r = reg[static_cast<size_t>(node)];
    if (r < 0) {
      r = pool_.alloc();
      v_.load(r, plane(node));
    }
    return r;
  };
  for (size_t i = 0; i < c.gates.size(); ++i) {
    int a = c.gates[i].a, b = c.gates[i].b;
    const GateOp op = c.gates[i].op;
    // Commutative: the operand that is still a plane goes to src2, the more used one to src1.
    if (op != GateOp::kAndNot && (reg[a] < 0) && (reg[b] >= 0 || uses[b] > uses[a]))
      std::swap(a, b);
    const int ra = load(a);
    if (uses[b] > 1) load(b);
    const bool a_dies = --uses[a] == 0, b_dies = --uses[b] == 0;
    const int rb = reg[b];
    const int dst = a_dies ? ra : (rb >= 0 && b_dies) ? rb : pool_.alloc();
    if (rb >= 0) {
      v_.op(opcode_of(op), dst, ra, rb);
    } else {
      v_.op(opcode_of(op), dst, ra, plane(b));
    }
    if (a_dies && ra != dst) pool_.release(ra);
    if (b_dies && rb >= 0 && rb != dst) pool_.release(rb);
    reg[static_cast<size_t>(c.first_gate()) + i] = dst;
  }
  ops_.lut += static_cast<double>(c.gates.size());
  return c.output < c.first_gate() ? load(c.output) : reg[static_cast<size_t>(c.output)];
}

}  // namespace

std::unique_ptr<VectorEmitter> make_avx2_emitter() { return std::make_unique<Avx2Emitter>(); }

}  // namespace lutnet::engine::detail
