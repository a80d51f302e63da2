#include "engine/jit_layer_generator.hpp"

#include <climits>
#include <utility>

namespace lutnet::engine::detail {

RegisterPool::RegisterPool(int count) {
  for (int r = count - 1; r >= 0; --r) free_.push_back(r);
}

int RegisterPool::alloc() {
  if (free_.empty() && spill) spill();
  if (free_.empty()) throw DoesNotFit{};
  const int r = free_.back();
  free_.pop_back();
  return r;
}

void RegisterPool::release(int reg) { free_.push_back(reg); }

VectorEmitter::VectorEmitter(EmitterConfig config)
    : config_(std::move(config)), pool_(config_.registers) {}

namespace {

// Spilled heap words at most: a layer that needs more at once has accumulators so wide (huge
// level weights: every LUT is pushed at each of their set bits) that the generic kernel, which
// counts each level once and adds the count shifted, does less work; it runs that layer.
constexpr int kMaxSpillSlots = 16;
constexpr int kSpillBase = kR11;  // the stack frame, 64-byte aligned
constexpr int kSavedStack = kR12;
constexpr int kSubWords = kR13;

class LayerGenerator {
 public:
  LayerGenerator(const Layer& layer, int acc_bits, size_t plane_stride, const uint64_t* compare,
                 bool write_complements, VectorEmitter& e)
      : layer_(layer),
        acc_bits_(acc_bits),
        plane_stride_(plane_stride),
        compare_(compare),
        write_complements_(write_complements),
        e_(e),
        a_(e.assembler()),
        pool_(e.pool()),
        config_(e.config()),
        word_bytes_(config_.word_bytes),
        plane_bytes_(config_.plane_bytes),
        sub_words_(config_.plane_bytes / config_.word_bytes),
        columns_(static_cast<size_t>(acc_bits) + 1) {
    if (config_.spills) pool_.spill = [this] { spill(); };
  }
  LayerGenerator(const LayerGenerator&) = delete;
  LayerGenerator& operator=(const LayerGenerator&) = delete;
  ~LayerGenerator() { pool_.spill = nullptr; }

  int spill_slots() const { return static_cast<int>(slots_.size()); }

  // Returns false when a displacement or stride does not fit 32 bits.
  bool generate() {
    const bool hidden = layer_.output == LayerOutput::kResidualSign;
    const int64_t n_out = layer_.num_outputs;
    // Per chunk, the output pointer moves to the next plane buffer (hidden layers) or the next
    // accumulator block (argmax layer).
    const int64_t out_stride =
        hidden ? static_cast<int64_t>(plane_stride_) : n_out * acc_bits_ * plane_bytes_;
    const int64_t out_extent =
        hidden ? (2 + 2 * layer_.output_levels * n_out) * plane_bytes_ : out_stride;
    if (out_stride > INT32_MAX || out_extent > INT32_MAX ||
        static_cast<int64_t>(plane_stride_) > INT32_MAX)
      return false;
    prologue();
    for (int64_t o = 0; o < n_out; ++o) {
      for (size_t k = 0; k < config_.bases.size(); ++k)
        a_.lea(config_.bases[k], kRbx,
               config_.base_offset + static_cast<int32_t>(k) * config_.base_span);
      a_.lea(kRsi, kRbp, hidden ? 0 : static_cast<int32_t>(o * acc_bits_ * plane_bytes_));
      a_.mov(kR15, kR14);
      const size_t loop = a_.bytes.size();
      if (sub_words_ > 1) a_.mov_imm(kSubWords, sub_words_);
      const size_t sub_loop = a_.bytes.size();
      sum_output(static_cast<size_t>(o));
      if (hidden) {
        threshold_output(static_cast<size_t>(o));
      } else {
        store_accumulators();
      }
      if (sub_words_ > 1) {  // the next half of the word, then the next word
        advance(word_bytes_, word_bytes_);
        a_.dec(kSubWords);
        a_.jnz_back(sub_loop);
        advance(out_stride - plane_bytes_, static_cast<int64_t>(plane_stride_) - plane_bytes_);
      } else {
        advance(out_stride, static_cast<int64_t>(plane_stride_));
      }
      a_.dec(kR15);
      a_.jnz_back(loop);
    }
    epilogue();
    return true;
  }

 private:
  void advance(int64_t out_bytes, int64_t plane_bytes) {
    a_.add(kRsi, static_cast<int32_t>(out_bytes));
    for (int base : config_.bases) a_.add(base, static_cast<int32_t>(plane_bytes));
  }

  // rbx = planes, rbp = output, r14 = chunks; r15 counts chunks down per output, r13 the
  // sub-words of a chunk where a plane holds several registers. With spills, r12 keeps the
  // caller's stack pointer and r11 points at the spill frame.
  void prologue() {
    for (int r : {kRbx, kRbp, kR14, kR15}) a_.push(r);
    if (sub_words_ > 1) a_.push(kSubWords);
    a_.mov(kRbx, kRdi);
    a_.mov(kRbp, kRsi);
    a_.mov(kR14, kRdx);
    if (config_.spills) {
      a_.push(kSavedStack);
      a_.mov(kSavedStack, kRsp);
      a_.sub(kRsp, 0);
      frame_size_at_ = a_.bytes.size() - 4;
      a_.and_(kRsp, -64);
      a_.mov(kSpillBase, kRsp);
    }
    e_.prologue();
  }
  void epilogue() {
    a_.vzeroupper();
    if (config_.spills) {
      a_.patch_imm32(frame_size_at_, static_cast<int32_t>(slots_.size()) * word_bytes_);
      a_.mov(kRsp, kSavedStack);
      a_.pop(kSavedStack);
    }
    if (sub_words_ > 1) a_.pop(kSubWords);
    for (int r : {kR15, kR14, kRbp, kRbx}) a_.pop(r);
    a_.ret();
  }

  int64_t plane(uint32_t level, uint32_t input, bool complement) const {
    const auto n = static_cast<int64_t>(layer_.num_inputs);
    return 2 + 2 * static_cast<int64_t>(level) * n + (complement ? n : 0) + input;
  }
  MemOperand plane_operand(int64_t p) const {
    const int64_t bytes = p * plane_bytes_;
    const int64_t k = bytes / config_.base_span;
    const auto n_bases = static_cast<int64_t>(config_.bases.size());
    const int64_t disp = k < n_bases ? bytes - config_.base_offset - k * config_.base_span
                                     : bytes - config_.base_offset;
    if (disp < INT32_MIN || disp > INT32_MAX) throw DoesNotFit{};
    return {config_.bases[static_cast<size_t>(k < n_bases ? k : 0)], static_cast<int32_t>(disp)};
  }
  LutPlanes planes_of(const ReducedLut& r, uint32_t level) const {
    LutPlanes p;
    for (int i = 0; i < r.num_inputs; ++i) {
      p.input[i] = plane_operand(plane(level, r.inputs[i], false));
      p.complement[i] = plane_operand(plane(level, r.inputs[i], true));
    }
    p.zeros = plane_operand(0);
    p.ones = plane_operand(1);
    return p;
  }

  // Every LUT of output o, level by level, into the heap.
  void sum_output(size_t o) {
    const auto levels = static_cast<size_t>(layer_.input_levels);
    const auto k = static_cast<size_t>(layer_.k);
    for (size_t l = 0; l < levels; ++l) {
      const auto weight = static_cast<uint64_t>(layer_.level_weights[l]);
      for (uint32_t c = layer_.conn_offset[o]; c < layer_.conn_offset[o + 1]; ++c) {
        const ReducedLut r =
            reduce_lut({&layer_.lut_inputs[c * k], k}, layer_.tables[c * levels + l]);
        if (r.num_inputs == 0 && !(r.table & 1)) continue;
        push_weighted(e_.lut(r, planes_of(r, static_cast<uint32_t>(l))), weight);
      }
    }
    reduce_heap();
  }

  // Adds a word at each set bit of the weight (a register copy for all but the last).
  void push_weighted(Word value, uint64_t weight) {
    for (int s = 0; s < 64; ++s) {
      if (!((weight >> s) & 1)) continue;
      if ((weight >> (s + 1)) && value.in_register()) {
        const int copy = pool_.alloc();
        e_.copy(copy, value);
        push(Word{copy, {}, -1, value.inverted}, s);
      } else {
        push(value, s);
      }
    }
  }

  int to_register(const Word& w) {
    if (w.in_register()) return w.reg;
    const int r = pool_.alloc();
    e_.copy(r, w);
    free_slot(w.slot);
    return r;
  }
  void discard(const Word& w) {
    if (w.in_register()) pool_.release(w.reg);
    free_slot(w.slot);
  }

  // Carry-save heap: at most two words per column; a third triggers a full adder whose carry goes
  // one column up. Columns at or above acc_bits can only hold zeros (acc < 2^acc_bits). The words
  // being added leave the heap first, so that a spill never picks them.
  void push(const Word& value, int column) {
    if (column >= acc_bits_) {
      discard(value);
      return;
    }
    auto& col = columns_[static_cast<size_t>(column)];
    col.push_back(value);
    if (col.size() < 3) return;
    Word wa = col[0], wb = col[1], wc = col[2];
    col.clear();
    // Inverted words: maj is self-dual, so with two or three of them the adder computes the
    // complement of the carry from the complements; then at most one operand, moved to c, is
    // inverted. The sum's inversion is the parity of the operands'.
    const bool dual = wa.inverted + wb.inverted + wc.inverted >= 2;
    const bool sum_inverted = (wa.inverted != wb.inverted) != wc.inverted;
    if (wa.inverted != dual) std::swap(wa, wc);
    if (wb.inverted != dual) std::swap(wb, wc);
    const int a = to_register(wa), b = to_register(wb), c = to_register(wc);
    e_.full_add(a, b, c, wc.inverted != dual);
    pool_.release(b);
    columns_[static_cast<size_t>(column)].push_back(Word{a, {}, -1, sum_inverted});
    push(Word{c, {}, -1, dual}, column + 1);
  }

  // Leaves at most one word per column: the accumulator planes.
  void reduce_heap() {
    for (int column = 0; column < acc_bits_; ++column) {
      auto& col = columns_[static_cast<size_t>(column)];
      if (col.size() != 2) continue;
      Word wa = col[0], wb = col[1];
      col.clear();
      if (wa.inverted && !wb.inverted) std::swap(wa, wb);
      const HalfAdd mode = !wb.inverted  ? HalfAdd::kPlain
                           : wa.inverted ? HalfAdd::kBothInverted
                                         : HalfAdd::kSecondInverted;
      const int a = to_register(wa), b = to_register(wb);
      e_.half_add(a, b, mode);
      columns_[static_cast<size_t>(column)].push_back(Word{a, {}, -1, wa.inverted != wb.inverted});
      push(Word{b, {}, -1, mode == HalfAdd::kBothInverted}, column + 1);
    }
    // The comparators read plain accumulator planes.
    for (int column = 0; column < acc_bits_; ++column) {
      auto& col = columns_[static_cast<size_t>(column)];
      if (col.empty() || !col[0].inverted) continue;
      const Word w = col[0];
      col.clear();
      const int r = to_register(w);
      e_.not_(r, plane_operand(1));
      columns_[static_cast<size_t>(column)].push_back(Word{r});
    }
  }
  const Word* column_word(int column) const {
    const auto& col = columns_[static_cast<size_t>(column)];
    return col.empty() ? nullptr : &col[0];
  }
  void clear_heap() {
    for (auto& col : columns_) {
      for (const Word& w : col) discard(w);
      col.clear();
    }
  }

  // When registers run out: the register word of the highest column (the least often touched)
  // goes to a stack slot.
  void spill() {
    for (int column = acc_bits_ - 1; column >= 0; --column) {
      auto& col = columns_[static_cast<size_t>(column)];
      for (auto w = col.rbegin(); w != col.rend(); ++w) {
        if (!w->in_register()) continue;
        const int slot = take_slot();
        const MemOperand m{kSpillBase, slot * word_bytes_};
        e_.store(m, w->reg);
        pool_.release(w->reg);
        *w = Word{-1, m, slot, w->inverted};
        return;
      }
    }
  }
  int take_slot() {
    for (size_t s = 0; s < slots_.size(); ++s) {
      if (!slots_[s]) {
        slots_[s] = true;
        return static_cast<int>(s);
      }
    }
    if (slots_.size() == kMaxSpillSlots) throw DoesNotFit{};
    slots_.push_back(true);
    return static_cast<int>(slots_.size()) - 1;
  }
  void free_slot(int slot) {
    if (slot >= 0) slots_[static_cast<size_t>(slot)] = false;
  }

  void store_accumulators() {
    for (int column = 0; column < acc_bits_; ++column) {
      const MemOperand m{kRsi, column * plane_bytes_};
      const Word* w = column_word(column);
      if (!w) {
        e_.store_zero(m);
      } else if (w->in_register()) {
        e_.store(m, w->reg);
      } else {
        const int r = pool_.alloc();
        e_.copy(r, *column_word(column));
        e_.store(m, r);
        pool_.release(r);
      }
    }
    clear_heap();
  }

  // acc >= c (then NOT for a negative output sign) from the accumulator planes, c <= 2^acc_bits:
  // ge starts as ones; each bit j does ge = c_j ? a_j & ge : a_j | ge, with the constant known,
  // so ge stays a constant until the first plane that decides it. Returns a register.
  int compare(uint64_t c, bool invert) {
    constexpr int kGeOnes = -2, kGeZeros = -3;  // ge while constant
    int ge = kGeOnes;
    for (int j = 0; j <= acc_bits_; ++j) {
      const bool bit = (c >> j) & 1;
      if (!(j < acc_bits_ && column_word(j))) {  // a zero plane
        if (bit) {
          if (ge >= 0) pool_.release(ge);
          ge = kGeZeros;
        }
        continue;
      }
      if (ge < 0) {
        if ((ge == kGeOnes) == bit) {  // ones & a or zeros | a: a copy of a
          const int r = pool_.alloc();
          e_.copy(r, *column_word(j));  // after alloc, which may have spilled it
          ge = r;
        }
        continue;
      }
      if (bit) {
        e_.and_(ge, *column_word(j));
      } else {
        e_.or_(ge, *column_word(j));
      }
    }
    if (ge < 0) {
      const bool ones = (ge == kGeOnes) != invert;
      ge = pool_.alloc();
      e_.constant(ge, ones);
    } else if (invert) {
      e_.not_(ge, plane_operand(1));
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
    auto out_plane = [&](int64_t p) {
      return MemOperand{kRsi, static_cast<int32_t>(p * plane_bytes_)};
    };
    std::vector<int> bits;
    for (int b = 0; b < layer_.output_levels; ++b) {
      // Candidates (2^b - 1) + prefix, prefix = earlier bits with bit 0 most significant: a mux
      // tree, innermost on the latest bit.
      std::vector<int> cand(cmp.begin() + (1 << b) - 1, cmp.begin() + (2 << b) - 1);
      for (int e = b - 1; e >= 0; --e) {
        const size_t n = cand.size() / 2;
        for (size_t q = 0; q < n; ++q) {
          e_.mux(cand[2 * q + 1], bits[static_cast<size_t>(e)], cand[2 * q]);
          pool_.release(cand[2 * q]);
          cand[q] = cand[2 * q + 1];
        }
        cand.resize(n);
      }
      bits.push_back(cand[0]);
      e_.store(out_plane(2 + 2 * b * n_out + static_cast<int64_t>(o)), cand[0]);
    }
    for (int b = 0; b < layer_.output_levels; ++b) {
      const int r = bits[static_cast<size_t>(b)];
      if (write_complements_) {
        e_.not_(r, plane_operand(1));
        e_.store(out_plane(2 + 2 * b * n_out + n_out + static_cast<int64_t>(o)), r);
      }
      pool_.release(r);
    }
  }

  const Layer& layer_;
  const int acc_bits_;
  const size_t plane_stride_;
  const uint64_t* compare_;
  const bool write_complements_;
  VectorEmitter& e_;
  X86Assembler& a_;
  RegisterPool& pool_;
  const EmitterConfig& config_;
  const int word_bytes_;   // of a vector register: spill slots, sub-word steps
  const int plane_bytes_;  // between planes
  const int sub_words_;    // registers per plane, each its own pass of the output's code
  std::vector<std::vector<Word>> columns_;
  std::vector<bool> slots_;  // spill slots in use
  size_t frame_size_at_ = 0;
};

}  // namespace

bool generate_layer(const Layer& layer, int acc_bits, size_t plane_stride, const uint64_t* compare,
                    bool write_complements, VectorEmitter& e, int* spill_slots) {
  LayerGenerator gen(layer, acc_bits, plane_stride, compare, write_complements, e);
  try {
    if (!gen.generate()) return false;
  } catch (const DoesNotFit&) {
    return false;
  }
  *spill_slots = gen.spill_slots();
  return true;
}

}  // namespace lutnet::engine::detail
