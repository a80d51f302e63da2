#include "engine/jit_avx512.hpp"

#if defined(__x86_64__) && defined(__linux__)
#include <sys/mman.h>
#define LUTNET_JIT_AVAILABLE 1
#endif

#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/leaf_order.hpp"

namespace lutnet::engine::detail {

#ifdef LUTNET_JIT_AVAILABLE
JitCode::~JitCode() { munmap(memory_, size_); }
#else
JitCode::~JitCode() = default;
#endif

namespace {

// GPR numbers as in ModRM/REX.
constexpr int kRax = 0, kRcx = 1, kRdx = 2, kRbx = 3, kRbp = 5, kRsi = 6, kRdi = 7, kR8 = 8,
              kR9 = 9, kR10 = 10, kR14 = 14, kR15 = 15;
constexpr int kZero = 30, kOnes = 31;  // zmm registers holding constants
constexpr int kAllocatable = 30;       // zmm0..zmm29 for values

// vpternlogq immediates are truth tables over (dst, src2, src3) = (a, b, c): bit 4a + 2b + c.
constexpr uint8_t kMuxHiSelLo = 0xE2;  // b ? a : c
constexpr uint8_t kMuxMemSel = 0xE4;   // c ? a : b
constexpr uint8_t kXor3 = 0x96, kXor = 0x3C, kOnesImm = 0xFF, kNot = 0x0F;
// With s = a ^ b ^ c in place of a: carry(c, s, b) = maj(a, b, c) = (c & b) | ((c ^ b) & ~s).
constexpr uint8_t kCarryFromSum = 0xB2;
constexpr uint8_t kAndNotB = 0x30;  // a & ~b
constexpr uint8_t kAndAB = 0xC0, kOrAB = 0xFC;

// Just enough of the EVEX encoding for 512-bit vmovdqa64, vpternlogq and vpxorq.
class Assembler {
 public:
  std::vector<uint8_t> bytes;

  void load(int zmm, int base, int64_t disp) { op(0x01, 0x6F, zmm, 0, base, disp); }
  void store(int base, int64_t disp, int zmm) { op(0x01, 0x7F, zmm, 0, base, disp); }
  void move(int dst, int src) { op_reg(0x01, 0x6F, dst, 0, src); }
  void tern(int dst, int b, int c, uint8_t imm) {
    op_reg(0x03, 0x25, dst, b, c);
    bytes.push_back(imm);
  }
  void tern_mem(int dst, int b, int base, int64_t disp, uint8_t imm) {
    op(0x03, 0x25, dst, b, base, disp);
    bytes.push_back(imm);
  }
  void xor_self(int zmm) { op_reg(0x01, 0xEF, zmm, zmm, zmm); }
  // add gpr, imm32 (64-bit).
  void add(int gpr, int32_t value) {
    bytes.push_back(static_cast<uint8_t>(0x48 | (gpr >= 8 ? 0x01 : 0)));
    bytes.push_back(0x81);
    bytes.push_back(static_cast<uint8_t>(0xC0 | (gpr & 7)));
    imm32(value);
  }
  void vzeroupper() { bytes.insert(bytes.end(), {0xC5, 0xF8, 0x77}); }
  void ret() { bytes.push_back(0xC3); }
  // Integer glue: push/pop/mov of the callee-saved registers, lea gpr, [base + disp32], the loop.
  void push(int gpr) {
    if (gpr >= 8) bytes.push_back(0x41);
    bytes.push_back(static_cast<uint8_t>(0x50 | (gpr & 7)));
  }
  void pop(int gpr) {
    if (gpr >= 8) bytes.push_back(0x41);
    bytes.push_back(static_cast<uint8_t>(0x58 | (gpr & 7)));
  }
  void mov(int dst, int src) {  // mov dst, src (64-bit)
    bytes.push_back(static_cast<uint8_t>(0x48 | (src >= 8 ? 0x04 : 0) | (dst >= 8 ? 0x01 : 0)));
    bytes.push_back(0x89);
    bytes.push_back(static_cast<uint8_t>(0xC0 | ((src & 7) << 3) | (dst & 7)));
  }
  void lea(int gpr, int base, int32_t disp) {  // base is never rsp/r12
    bytes.push_back(static_cast<uint8_t>(0x48 | (gpr >= 8 ? 0x04 : 0) | (base >= 8 ? 0x01 : 0)));
    bytes.push_back(0x8D);
    bytes.push_back(static_cast<uint8_t>(0x80 | ((gpr & 7) << 3) | (base & 7)));
    imm32(disp);
  }
  void dec(int gpr) {
    bytes.push_back(static_cast<uint8_t>(0x48 | (gpr >= 8 ? 0x01 : 0)));
    bytes.push_back(0xFF);
    bytes.push_back(static_cast<uint8_t>(0xC8 | (gpr & 7)));
  }
  void jnz_back(size_t target) {
    bytes.insert(bytes.end(), {0x0F, 0x85});
    imm32(static_cast<int64_t>(target) - static_cast<int64_t>(bytes.size() + 4));
  }

 private:
  void imm32(int64_t v) {
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>((v >> (8 * i)) & 0xFF));
  }
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
    bytes.insert(bytes.end(), {0x62, p0, p1, p2});
  }
  void op_reg(int map, uint8_t opcode, int reg, int vvvv, int rm) {
    prefix(map, reg, vvvv, rm, true);
    bytes.push_back(opcode);
    bytes.push_back(static_cast<uint8_t>(0xC0 | ((reg & 7) << 3) | (rm & 7)));
  }
  // [base + disp]: compressed disp8 (scaled by 64) when possible, else disp32. Bases are never
  // rsp/r12, so no SIB byte is needed.
  void op(int map, uint8_t opcode, int reg, int vvvv, int base, int64_t disp) {
    prefix(map, reg, vvvv, base, false);
    bytes.push_back(opcode);
    const bool short_disp = disp % 64 == 0 && disp / 64 >= -128 && disp / 64 <= 127;
    bytes.push_back(
        static_cast<uint8_t>((short_disp ? 0x40 : 0x80) | ((reg & 7) << 3) | (base & 7)));
    if (short_disp) {
      bytes.push_back(static_cast<uint8_t>(disp / 64));
    } else {
      imm32(disp);
    }
  }
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

struct OutOfRegisters {};

class LayerGenerator {
 public:
  LayerGenerator(const Layer& layer, int acc_bits, size_t plane_stride, const uint64_t* compare,
                 bool write_complements)
      : layer_(layer),
        acc_bits_(acc_bits),
        plane_stride_(plane_stride),
        compare_(compare),
        write_complements_(write_complements),
        columns_(static_cast<size_t>(acc_bits) + 1) {
    for (int r = kAllocatable - 1; r >= 0; --r) free_.push_back(r);
  }

  // Returns false when a displacement or stride does not fit 32 bits.
  bool generate() {
    const bool hidden = layer_.output == LayerOutput::kResidualSign;
    const int64_t n_out = layer_.num_outputs;
    // Per chunk, the output pointer moves to the next plane buffer (hidden layers) or the next
    // accumulator block (argmax layer).
    const int64_t out_stride =
        hidden ? static_cast<int64_t>(plane_stride_) : n_out * acc_bits_ * 64;
    const int64_t out_extent = hidden ? (2 + 2 * layer_.output_levels * n_out) * 64 : out_stride;
    if (out_stride > INT32_MAX || out_extent > INT32_MAX ||
        static_cast<int64_t>(plane_stride_) > INT32_MAX)
      return false;
    // rbx = planes, rbp = output, r14 = chunks; r15 counts chunks down per output.
    for (int r : {kRbx, kRbp, kR14, kR15}) a_.push(r);
    a_.mov(kRbx, kRdi);
    a_.mov(kRbp, kRsi);
    a_.mov(kR14, kRdx);
    a_.xor_self(kZero);
    a_.tern(kOnes, kOnes, kOnes, kOnesImm);
    const size_t levels = static_cast<size_t>(layer_.input_levels);
    for (int64_t o = 0; o < n_out; ++o) {
      // Plane bases every 16 KiB from planes + 8 KiB, so most planes take a one-byte displacement.
      for (int k = 0; k < kBases; ++k) a_.lea(kBaseRegs[k], kRbx, kBaseOffset + k * kBaseSpan);
      a_.lea(kRsi, kRbp, hidden ? 0 : static_cast<int32_t>(o * acc_bits_ * 64));
      a_.mov(kR15, kR14);
      const size_t loop = a_.bytes.size();
      for (size_t l = 0; l < levels; ++l) {
        const auto weight = static_cast<uint64_t>(layer_.level_weights[l]);
        for (uint32_t c = layer_.conn_offset[o]; c < layer_.conn_offset[o + 1]; ++c) {
          const ReducedLut r = reduce_lut({&layer_.lut_inputs[static_cast<size_t>(c) * layer_.k],
                                           static_cast<size_t>(layer_.k)},
                                          layer_.tables[static_cast<size_t>(c) * levels + l]);
          const int value = evaluate(r, static_cast<uint32_t>(l));
          if (value >= 0) push_weighted(value, weight);
        }
      }
      reduce_heap();
      if (hidden) {
        threshold_output(static_cast<size_t>(o));
      } else {
        store_accumulators();
      }
      a_.add(kRsi, static_cast<int32_t>(out_stride));
      for (int k = 0; k < kBases; ++k) a_.add(kBaseRegs[k], static_cast<int32_t>(plane_stride_));
      a_.dec(kR15);
      a_.jnz_back(loop);
    }
    a_.vzeroupper();
    for (int r : {kR15, kR14, kRbp, kRbx}) a_.pop(r);
    a_.ret();
    return true;
  }

  const std::vector<uint8_t>& code() const { return a_.bytes; }
  double lut_ops() const { return lut_ops_; }
  double adder_ops() const { return adder_ops_; }
  double threshold_ops() const { return threshold_ops_; }

 private:
  static constexpr int kBases = 7;
  static constexpr int kBaseSpan = 16384;
  static constexpr int kBaseOffset = 8192;
  static constexpr int kBaseRegs[kBases] = {kRdi, kRax, kRcx, kRdx, kR8, kR9, kR10};

  int alloc() {
    if (free_.empty()) throw OutOfRegisters{};
    const int r = free_.back();
    free_.pop_back();
    return r;
  }
  void release(int r) { free_.push_back(r); }

  int64_t plane(uint32_t level, uint32_t input, bool complement) const {
    const auto n = static_cast<int64_t>(layer_.num_inputs);
    return 2 + 2 * static_cast<int64_t>(level) * n + (complement ? n : 0) + input;
  }
  void plane_operand(int64_t p, int* base, int64_t* disp) const {
    const int64_t k = p * 64 / kBaseSpan;
    if (k < kBases) {
      *base = kBaseRegs[k];
      *disp = p * 64 - kBaseOffset - k * kBaseSpan;
    } else {
      *base = kRdi;
      *disp = p * 64 - kBaseOffset;
    }
  }
  void load_plane(int zmm, int64_t p) {
    int base;
    int64_t disp;
    plane_operand(p, &base, &disp);
    a_.load(zmm, base, disp);
  }
  void tern_plane(int dst, int b, int64_t p, uint8_t imm) {
    int base;
    int64_t disp;
    plane_operand(p, &base, &disp);
    a_.tern_mem(dst, b, base, disp, imm);
    ++lut_ops_;
  }
  void tern(int dst, int b, int c, uint8_t imm, double* counter) {
    a_.tern(dst, b, c, imm);
    ++*counter;
  }

  // Emits the LUT; returns the register holding its output word, or -1 for the constant 0.
  int evaluate(const ReducedLut& r, uint32_t level) {
    const uint64_t g = r.table;
    auto x = [&](int i) { return plane(level, r.inputs[i], false); };
    if (r.num_inputs == 0) {
      if (!(g & 1)) return -1;
      const int v = alloc();
      a_.move(v, kOnes);
      return v;
    }
    const int v = alloc();
    if (r.num_inputs == 1) {
      // Complement planes are not written for generated layers: 0b01 (~x0) is one NOT.
      load_plane(v, plane(level, r.inputs[0], false));
      if (g == 0b01) tern(v, v, v, kNot, &lut_ops_);
      return v;
    }
    load_plane(v, x(0));
    if (r.num_inputs == 2) {  // (a, b, c) = (x0, x0, x1): bit 4a + 2b + c = g[a + 2c]
      unsigned imm = 0;
      for (unsigned a = 0; a < 2; ++a)
        for (unsigned b = 0; b < 2; ++b)
          for (unsigned c = 0; c < 2; ++c) imm |= ((g >> (a + 2 * c)) & 1u) << (4 * a + 2 * b + c);
      tern_plane(v, v, x(1), static_cast<uint8_t>(imm));
      return v;
    }
    const int x1 = alloc();
    load_plane(x1, x(1));
    if (r.num_inputs == 3) {
      tern_plane(v, x1, x(2), ternary_immediate(static_cast<unsigned>(g)));
      release(x1);
      return v;
    }
    // Ke >= 4: 2^(Ke-3) cofactors over (x0, x1, x2), then a mux tree over x3.. (hi into lo).
    // Loads are the scarce resource once the code runs from the op cache: x2 is loaded once and
    // x0 copied for every cofactor but the last.
    const int x2 = alloc();
    load_plane(x2, x(2));
    const int cofactors = 1 << (r.num_inputs - 3);
    std::vector<int> cof(static_cast<size_t>(cofactors));
    for (int m = 0; m < cofactors; ++m) {
      const auto table8 = static_cast<unsigned>((g >> (8 * m)) & 0xFF);
      const int dst = m + 1 < cofactors ? alloc() : v;
      if (dst != v) a_.move(dst, v);
      tern(dst, x1, x2, ternary_immediate(table8), &lut_ops_);
      cof[static_cast<size_t>(m)] = dst;
    }
    release(x1);
    release(x2);
    for (int j = 3; j < r.num_inputs; ++j) {
      const size_t n = cof.size() / 2;
      if (n == 1) {  // one mux: the selector as the memory operand
        int base;
        int64_t disp;
        plane_operand(x(j), &base, &disp);
        a_.tern_mem(cof[1], cof[0], base, disp, kMuxMemSel);
        ++lut_ops_;
        release(cof[0]);
        return cof[1];
      }
      const int s = alloc();
      load_plane(s, x(j));
      for (size_t q = 0; q < n; ++q) {
        tern(cof[2 * q + 1], s, cof[2 * q], kMuxHiSelLo, &lut_ops_);
        release(cof[2 * q]);
        cof[q] = cof[2 * q + 1];
      }
      cof.resize(n);
      release(s);
    }
    return cof[0];
  }

  // Adds a word at each set bit of the weight (a copy for all but the last).
  void push_weighted(int value, uint64_t weight) {
    for (int s = 0; s < 64; ++s) {
      if (!((weight >> s) & 1)) continue;
      if (weight >> (s + 1)) {
        const int copy = alloc();
        a_.move(copy, value);
        push(copy, s);
      } else {
        push(value, s);
      }
    }
  }

  // Carry-save heap: at most two words per column; a third triggers a full adder whose carry goes
  // one column up. Columns at or above acc_bits can only hold zeros (acc < 2^acc_bits).
  void push(int value, int column) {
    if (column >= acc_bits_) {
      release(value);
      return;
    }
    auto& col = columns_[static_cast<size_t>(column)];
    col.push_back(value);
    if (col.size() < 3) return;
    // Sum into a, then the carry into c from (c, sum, b): no register copy.
    const int a = col[0], b = col[1], c = col[2];
    tern(a, b, c, kXor3, &adder_ops_);
    tern(c, a, b, kCarryFromSum, &adder_ops_);
    release(b);
    col.assign(1, a);
    push(c, column + 1);
  }

  // Leaves at most one word per column: the accumulator planes.
  void reduce_heap() {
    for (int column = 0; column < acc_bits_; ++column) {
      auto& col = columns_[static_cast<size_t>(column)];
      if (col.size() == 2) {
        const int a = col[0], b = col[1];
        tern(a, b, b, kXor, &adder_ops_);
        tern(b, a, b, kAndNotB, &adder_ops_);  // b & ~(a ^ b) = a & b
        col.assign(1, a);
        push(b, column + 1);
      }
    }
  }
  int plane_of_column(int column) const {
    const auto& col = columns_[static_cast<size_t>(column)];
    return col.empty() ? kZero : col[0];
  }
  void clear_heap() {
    for (auto& col : columns_) {
      for (int r : col) release(r);
      col.clear();
    }
  }

  void store_accumulators() {
    for (int column = 0; column < acc_bits_; ++column)
      a_.store(kRsi, static_cast<int64_t>(column) * 64, plane_of_column(column));
    clear_heap();
  }

  // acc >= c (then NOT for a negative output sign) from the accumulator planes, c <= 2^acc_bits:
  // ge starts as ones; each bit j does ge = c_j ? a_j & ge : a_j | ge, with the constant known.
  int compare(uint64_t c, bool invert) {
    int ge = kOnes;  // kOnes/kZero until a register is needed
    for (int j = 0; j <= acc_bits_; ++j) {
      const int a = j < acc_bits_ ? plane_of_column(j) : kZero;
      const bool bit = (c >> j) & 1;
      if (a == kZero) {
        if (bit) ge = (ge == kOnes || ge == kZero) ? kZero : (release(ge), kZero);
        continue;
      }
      if (ge == kOnes || ge == kZero) {
        if ((ge == kOnes) == bit) {  // ones & a or zero | a: a copy of a
          ge = alloc();
          a_.move(ge, a);
        }
        continue;
      }
      tern(ge, a, a, bit ? kAndAB : kOrAB, &threshold_ops_);
    }
    if (ge == kOnes || ge == kZero) {
      const int constant = (ge == kOnes) != invert ? kOnes : kZero;
      ge = alloc();
      a_.move(ge, constant);
    } else if (invert) {
      tern(ge, ge, ge, kNot, &threshold_ops_);
    }
    return ge;
  }

  // Residual-sign outputs of neuron o into the output plane buffer at rsi (plan.hpp layout).
  void threshold_output(size_t o) {
    const int per_output = (1 << layer_.output_levels) - 1;
    const bool invert = layer_.output_sign[o] < 0;
    std::vector<int> cmp(static_cast<size_t>(per_output));
    for (int t = 0; t < per_output; ++t)
      cmp[static_cast<size_t>(t)] =
          compare(compare_[o * static_cast<size_t>(per_output) + t], invert);
    clear_heap();
    const auto n_out = static_cast<int64_t>(layer_.num_outputs);
    std::vector<int> bits;
    for (int b = 0; b < layer_.output_levels; ++b) {
      // Candidates (2^b - 1) + prefix, prefix = earlier bits with bit 0 most significant: a mux
      // tree, innermost on the latest bit.
      std::vector<int> cand(cmp.begin() + (1 << b) - 1, cmp.begin() + (2 << b) - 1);
      for (int e = b - 1; e >= 0; --e) {
        const size_t n = cand.size() / 2;
        for (size_t q = 0; q < n; ++q) {
          tern(cand[2 * q + 1], bits[static_cast<size_t>(e)], cand[2 * q], kMuxHiSelLo,
               &threshold_ops_);
          release(cand[2 * q]);
          cand[q] = cand[2 * q + 1];
        }
        cand.resize(n);
      }
      bits.push_back(cand[0]);
      a_.store(kRsi, (2 + 2 * b * n_out + static_cast<int64_t>(o)) * 64, cand[0]);
    }
    for (int b = 0; b < layer_.output_levels; ++b) {
      const int r = bits[static_cast<size_t>(b)];
      if (write_complements_) {
        tern(r, r, r, kNot, &threshold_ops_);
        a_.store(kRsi, (2 + 2 * b * n_out + n_out + static_cast<int64_t>(o)) * 64, r);
      }
      release(r);
    }
  }

  const Layer& layer_;
  const int acc_bits_;
  const size_t plane_stride_;
  const uint64_t* compare_;
  const bool write_complements_;
  Assembler a_;
  std::vector<int> free_;
  std::vector<std::vector<int>> columns_;
  double lut_ops_ = 0;
  double adder_ops_ = 0;
  double threshold_ops_ = 0;
};

}  // namespace

JitLayer jit_avx512_layer(const Layer& layer, int acc_bits, size_t plane_stride,
                          const uint64_t* compare, bool write_complements) {
  JitLayer out;
#ifndef LUTNET_JIT_AVAILABLE
  (void)layer;
  (void)acc_bits;
  (void)plane_stride;
  (void)compare;
  (void)write_complements;
  return out;
#else
  LayerGenerator gen(layer, acc_bits, plane_stride, compare, write_complements);
  try {
    if (!gen.generate()) return out;
  } catch (const OutOfRegisters&) {
    return out;
  }
  const auto& code = gen.code();
  // Megabytes of straight-line code: 2 MiB pages keep instruction fetch off the page walker.
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t size = (code.size() + kHuge - 1) / kHuge * kHuge;
  void* reserved =
      mmap(nullptr, size + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (reserved == MAP_FAILED) return out;
  const auto start = reinterpret_cast<uintptr_t>(reserved);
  const uintptr_t aligned = (start + kHuge - 1) / kHuge * kHuge;
  if (aligned > start) munmap(reserved, aligned - start);
  if (aligned + size < start + size + kHuge)
    munmap(reinterpret_cast<void*>(aligned + size), start + size + kHuge - aligned - size);
  void* memory = reinterpret_cast<void*>(aligned);
  madvise(memory, size, MADV_HUGEPAGE);
  std::memcpy(memory, code.data(), code.size());
  if (mprotect(memory, size, PROT_READ | PROT_EXEC) != 0) {
    munmap(memory, size);
    return out;
  }
  out.code = std::make_unique<JitCode>(memory, size);
  out.code_bytes = code.size();
  out.fn = reinterpret_cast<JitLayerFn>(memory);
  out.lut_ops = gen.lut_ops();
  out.adder_ops = gen.adder_ops();
  out.threshold_ops = gen.threshold_ops();
  return out;
#endif
}

}  // namespace lutnet::engine::detail
