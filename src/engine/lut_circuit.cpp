#include "engine/lut_circuit.hpp"

#include <array>
#include <cstddef>
#include <utility>
#include <vector>

namespace lutnet::engine::detail {

namespace {

constexpr uint8_t kUnknown = 255;
constexpr GateOp kOps[] = {GateOp::kAnd, GateOp::kOr, GateOp::kXor, GateOp::kAndNot};

uint64_t table_mask(int n) { return n >= 6 ? ~uint64_t{0} : (uint64_t{1} << (1 << n)) - 1; }

uint64_t input_table(int i, int n) {
  uint64_t t = 0;
  for (unsigned a = 0; a < (1u << n); ++a)
    if ((a >> i) & 1u) t |= uint64_t{1} << a;
  return t;
}

uint64_t apply(GateOp op, uint64_t a, uint64_t b) {
  switch (op) {
    case GateOp::kAnd:
      return a & b;
    case GateOp::kOr:
      return a | b;
    case GateOp::kXor:
      return a ^ b;
    case GateOp::kAndNot:
      return ~a & b;
  }
  return 0;
}

// The function with input v fixed to `bit`, over the other n - 1 inputs in order: the blocks of
// 2^v table bits where x_v = bit, compressed by halving the gaps (a software pext).
uint64_t cofactor(uint64_t f, int v, unsigned bit) {
  static constexpr uint64_t kBlocks[] = {0x5555555555555555, 0x3333333333333333,
                                         0x0F0F0F0F0F0F0F0F, 0x00FF00FF00FF00FF,
                                         0x0000FFFF0000FFFF, 0x00000000FFFFFFFF};
  uint64_t x = (bit ? f >> (1u << v) : f) & kBlocks[v];
  for (int k = v; k < 5; ++k) x = (x | (x >> (1u << k))) & kBlocks[k + 1];
  return x;
}

// Smallest formulas (trees whose leaves are inputs, complements where free, and the constants) of
// every function of 4 inputs; a formula of c gates has c + 1 leaves, so the gate count also counts
// its plane loads. Built level by level: the functions of cost c are op(g, h) for g of cost i and h
// of cost c - 1 - i (every function costs at most 8 gates; tens of milliseconds, once per process).
struct FormulaTable {
  std::vector<uint8_t> cost = std::vector<uint8_t>(65536, kUnknown);
  std::vector<GateOp> op = std::vector<GateOp>(65536, GateOp::kAnd);
  std::vector<uint16_t> a = std::vector<uint16_t>(65536, 0), b = std::vector<uint16_t>(65536, 0);
};

FormulaTable make_formula_table(bool complements) {
  FormulaTable t;
  std::vector<std::vector<uint16_t>> level(1);
  size_t found = 0;
  auto record = [&](unsigned f, size_t c, GateOp op, uint16_t g, uint16_t h) {
    t.cost[f] = static_cast<uint8_t>(c);
    t.op[f] = op;
    t.a[f] = g;
    t.b[f] = h;
    level[c].push_back(static_cast<uint16_t>(f));
    ++found;
  };
  auto add = [&](unsigned f, size_t c, GateOp op, uint16_t g, uint16_t h) {
    if (t.cost[f & 0xFFFF] == kUnknown) record(f & 0xFFFF, c, op, g, h);
  };
  auto record_new = [&](const unsigned* f, size_t c, uint16_t g, uint16_t h) {
    add(f[0], c, GateOp::kAnd, g, h);
    add(f[1], c, GateOp::kOr, g, h);
    add(f[2], c, GateOp::kXor, g, h);
    add(f[3], c, GateOp::kAndNot, g, h);
    add(f[4], c, GateOp::kAndNot, h, g);
  };
  add(0, 0, GateOp::kAnd, 0, 0);
  add(0xFFFF, 0, GateOp::kAnd, 0, 0);
  for (int i = 0; i < 4; ++i) {
    const auto x = static_cast<unsigned>(input_table(i, 4));
    add(x, 0, GateOp::kAnd, 0, 0);
    if (complements) add(~x, 0, GateOp::kAnd, 0, 0);
  }
  for (size_t c = 1; found < 65536; ++c) {
    level.emplace_back();
    for (size_t i = 0; i + i <= c - 1; ++i) {
      const std::vector<uint16_t>& hs = level[c - 1 - i];
      for (size_t gi = 0; gi < level[i].size(); ++gi) {
        if (found == 65536) return t;
        const uint16_t g = level[i][gi];
        // Pairs within one level once: AND, OR and XOR commute, AND-NOT is taken both ways.
        // The test inline, a new function (rare) out of line: 3.5 million pairs at cost 7.
        const uint8_t* cost = t.cost.data();
        for (size_t hi = i + i == c - 1 ? gi : 0; hi < hs.size(); ++hi) {
          const uint16_t h = hs[hi];
          const unsigned f[5] = {g & h & 0xFFFFu, (g | h) & 0xFFFFu, (g ^ h) & 0xFFFFu,
                                 ~g & h & 0xFFFFu, ~h & g & 0xFFFFu};
          // Costs are at most 8: the OR is kUnknown only if one of them is.
          if ((cost[f[0]] | cost[f[1]] | cost[f[2]] | cost[f[3]] | cost[f[4]]) != kUnknown)
            continue;
          record_new(f, c, g, h);
        }
      }
    }
  }
  return t;
}

const FormulaTable& formula_table(bool complements) {
  if (complements) {
    static const FormulaTable with = make_formula_table(true);
    return with;
  }
  static const FormulaTable without = make_formula_table(false);
  return without;
}

// A function of n < 4 inputs as one of 4 inputs that ignores the others.
uint64_t widen_to_four(uint64_t f, int n) {
  for (; n < 4; ++n) f |= f << (1u << n);
  return f & 0xFFFF;
}

// How a function of n >= 4 inputs is split on input x into its cofactors f0 (x = 0) and f1.
enum class SplitKind {
  kIgnore,    // f0 == f1: f does not depend on x
  kAnd,       // f0 == 0: x & f1
  kAndNot,    // f1 == 0: ~x & f0
  kOr,        // f1 == 1: x | f0
  kOrNot,     // f0 == 1: ~x | f1
  kXor,       // f1 == ~f0: x ^ f0
  kDavio0,    // f0 ^ (x & (f0 ^ f1))
  kDavio1,    // f1 ^ (~x & (f0 ^ f1))
  kMux,       // (x & f1) | (~x & f0)
  kOrAnd,     // f0 <= f1: f0 | (x & f1)
  kOrAndNot,  // f1 <= f0: f1 | (~x & f0)
};

struct Split {
  int var = 0;
  SplitKind kind = SplitKind::kMux;
  int cost = 1 << 20;
};

int cost_of(uint64_t f, int n, bool complements);

// The cheapest split of f on input v.
Split split_on(uint64_t f, int n, int v, bool complements) {
  const uint64_t m = table_mask(n - 1);
  const uint64_t f0 = cofactor(f, v, 0), f1 = cofactor(f, v, 1);
  auto c = [&](uint64_t g) { return cost_of(g, n - 1, complements); };
  if (f0 == f1) return {v, SplitKind::kIgnore, c(f0)};
  if (f0 == 0) return {v, SplitKind::kAnd, c(f1) + 1};
  if (f1 == 0) return {v, SplitKind::kAndNot, c(f0) + 1};
  if (f1 == m) return {v, SplitKind::kOr, c(f0) + 1};
  if (f0 == m) return {v, SplitKind::kOrNot, c(f1) + (complements ? 1 : 2)};
  if (f1 == (~f0 & m)) return {v, SplitKind::kXor, c(f0) + 1};
  const int c0 = c(f0), c1 = c(f1), cg = c(f0 ^ f1);
  Split best{v, SplitKind::kMux, c0 + c1 + 3};
  auto consider = [&](SplitKind kind, int cost) {
    if (cost < best.cost) best = {v, kind, cost};
  };
  consider(SplitKind::kDavio0, c0 + cg + 2);
  consider(SplitKind::kDavio1, c1 + cg + 2);
  if ((f0 & ~f1) == 0) consider(SplitKind::kOrAnd, c0 + c1 + 2);
  if ((f1 & ~f0) == 0) consider(SplitKind::kOrAndNot, c0 + c1 + 2);
  return best;
}

Split best_split(uint64_t f, int n, bool complements) {
  Split best;
  for (int v = 0; v < n; ++v) {
    const Split s = split_on(f, n, v, complements);
    if (s.cost < best.cost) best = s;
  }
  return best;
}

int cost_of(uint64_t f, int n, bool complements) {
  if (n <= 4) return formula_table(complements).cost[widen_to_four(f, n)];
  return best_split(f, n, complements).cost;
}

// Builds the chosen formulas as a circuit; equal gates are shared (circuits are short: a scan).
class Builder {
 public:
  Builder(int num_inputs, bool complements) : complements_(complements) {
    circuit_.num_inputs = num_inputs;
  }

  // f over the inputs vars[0..n-1] of the circuit.
  int build(uint64_t f, int n, const int* vars) {
    if (n <= 4) {
      // Inputs a narrower function ignores are never read by its formula (but fill the map).
      int four[4];
      for (int i = 0; i < 4; ++i) four[i] = i < n ? vars[i] : circuit_.zeros();
      return build_formula(static_cast<uint16_t>(widen_to_four(f, n)), four);
    }
    const Split s = best_split(f, n, complements_);
    int rest[kMaxInputs];
    for (int i = 0, j = 0; i < n; ++i)
      if (i != s.var) rest[j++] = vars[i];
    const uint64_t f0 = cofactor(f, s.var, 0), f1 = cofactor(f, s.var, 1);
    return combine(s.kind, vars[s.var], f0, f1, n - 1, rest);
  }

  LutCircuit take(int output) {
    circuit_.output = output;
    return std::move(circuit_);
  }

 private:
  static constexpr int kMaxInputs = 6;

  int gate(GateOp op, int a, int b) {
    if (op != GateOp::kAndNot && a > b) std::swap(a, b);
    const Gate g{op, static_cast<uint8_t>(a), static_cast<uint8_t>(b)};
    for (size_t i = 0; i < circuit_.gates.size(); ++i) {
      const Gate& e = circuit_.gates[i];
      if (e.op == g.op && e.a == g.a && e.b == g.b)
        return circuit_.first_gate() + static_cast<int>(i);
    }
    circuit_.gates.push_back(g);
    return circuit_.first_gate() + static_cast<int>(circuit_.gates.size()) - 1;
  }
  int complement(int x) {
    if (complements_) return circuit_.num_inputs + x;
    return gate(GateOp::kXor, x, circuit_.ones());
  }

  int build_formula(uint16_t f, const int* vars) {
    if (f == 0) return circuit_.zeros();
    if (f == 0xFFFF) return circuit_.ones();
    for (int i = 0; i < 4; ++i) {
      const auto x = static_cast<uint16_t>(input_table(i, 4));
      if (f == x) return vars[i];
      if (complements_ && f == static_cast<uint16_t>(~x)) return circuit_.num_inputs + vars[i];
    }
    const FormulaTable& t = formula_table(complements_);
    const int a = build_formula(t.a[f], vars);
    const int b = build_formula(t.b[f], vars);
    return gate(t.op[f], a, b);
  }

  int combine(SplitKind kind, int x, uint64_t f0, uint64_t f1, int n, const int* vars) {
    auto sub = [&](uint64_t g) { return build(g, n, vars); };
    switch (kind) {
      case SplitKind::kIgnore:
        return sub(f0);
      case SplitKind::kAnd:
        return gate(GateOp::kAnd, x, sub(f1));
      case SplitKind::kAndNot:
        return gate(GateOp::kAndNot, x, sub(f0));
      case SplitKind::kOr:
        return gate(GateOp::kOr, x, sub(f0));
      case SplitKind::kOrNot:  // ~x | f1 = ~(~f1 & x)
        if (complements_) return gate(GateOp::kOr, complement(x), sub(f1));
        return gate(GateOp::kXor, gate(GateOp::kAndNot, sub(f1), x), circuit_.ones());
      case SplitKind::kXor:
        return gate(GateOp::kXor, x, sub(f0));
      case SplitKind::kDavio0:
        return gate(GateOp::kXor, sub(f0), gate(GateOp::kAnd, x, sub(f0 ^ f1)));
      case SplitKind::kDavio1:
        return gate(GateOp::kXor, sub(f1), gate(GateOp::kAndNot, x, sub(f0 ^ f1)));
      case SplitKind::kMux:
        return gate(GateOp::kOr, gate(GateOp::kAnd, x, sub(f1)), gate(GateOp::kAndNot, x, sub(f0)));
      case SplitKind::kOrAnd:
        return gate(GateOp::kOr, sub(f0), gate(GateOp::kAnd, x, sub(f1)));
      case SplitKind::kOrAndNot:
        return gate(GateOp::kOr, sub(f1), gate(GateOp::kAndNot, x, sub(f0)));
    }
    return circuit_.zeros();
  }

  const bool complements_;
  LutCircuit circuit_;
};

}  // namespace

LutCircuit lut_circuit(uint64_t table, int num_inputs, bool complements) {
  Builder builder(num_inputs, complements);
  const int vars[] = {0, 1, 2, 3, 4, 5};
  const int output = builder.build(table & table_mask(num_inputs), num_inputs, vars);
  return builder.take(output);
}

uint64_t circuit_table(const LutCircuit& circuit) {
  const int n = circuit.num_inputs;
  const uint64_t mask = table_mask(n);
  std::vector<uint64_t> value(static_cast<size_t>(circuit.first_gate()) + circuit.gates.size());
  for (int i = 0; i < n; ++i) {
    value[static_cast<size_t>(i)] = input_table(i, n);
    value[static_cast<size_t>(n + i)] = ~input_table(i, n) & mask;
  }
  value[static_cast<size_t>(circuit.zeros())] = 0;
  value[static_cast<size_t>(circuit.ones())] = mask;
  for (size_t g = 0; g < circuit.gates.size(); ++g) {
    const Gate& gate = circuit.gates[g];
    value[static_cast<size_t>(circuit.first_gate()) + g] =
        apply(gate.op, value[gate.a], value[gate.b]) & mask;
  }
  return value[static_cast<size_t>(circuit.output)];
}

}  // namespace lutnet::engine::detail
