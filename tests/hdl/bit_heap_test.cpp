// Compressor trees compute the exact weighted sum, for every heap shape, style and pipelining.
#include "hdl/bit_heap.hpp"

#include <gtest/gtest.h>

#include <random>

namespace lutnet::hdl {
namespace {

struct HeapCase {
  Netlist nl;
  BitHeap heap;
  std::vector<int64_t> weights;  // per input bit
  int input = 0;
};

HeapCase random_heap(int bits, int max_weight_log, std::mt19937_64& rng) {
  HeapCase c;
  c.input = c.nl.add_input("x", bits);
  for (int i = 0; i < bits; ++i) {
    const int64_t w = 1 + static_cast<int64_t>(rng() % (int64_t{1} << max_weight_log));
    c.weights.push_back(w);
    c.heap.add_weighted(c.nl.input(c.input, i), w);
  }
  return c;
}

// Evaluates sum_heap on 64 random lanes and compares with the weighted sum.
void check_sum(HeapCase& c, PopcountStyle style, const HeapPipeline& pipeline, uint64_t seed) {
  std::vector<Net> result = sum_heap(c.nl, c.heap, style, pipeline);
  const int out = c.nl.add_output("y", std::max<int>(1, static_cast<int>(result.size())));
  for (size_t b = 0; b < result.size(); ++b) c.nl.set_output(out, static_cast<int>(b), result[b]);
  if (result.empty()) c.nl.set_output(out, 0, kConst0);
  c.nl.check();
  std::mt19937_64 rng(seed);
  std::vector<std::vector<uint64_t>> in(2);
  for (size_t i = 0; i < c.weights.size(); ++i) in[0].push_back(rng());
  const auto values = c.nl.evaluate(in);
  for (int lane = 0; lane < 64; ++lane) {
    int64_t expected = 0;
    for (size_t i = 0; i < c.weights.size(); ++i)
      if ((in[0][i] >> lane) & 1) expected += c.weights[i];
    int64_t got = 0;
    for (size_t b = 0; b < result.size(); ++b)
      got |= static_cast<int64_t>((values[out][b] >> lane) & 1) << b;
    ASSERT_EQ(got, expected) << "lane " << lane;
  }
}

TEST(BitHeap, PopcountOfEveryWidthUpTo200) {
  std::mt19937_64 rng(1);
  for (int n = 1; n <= 200; ++n) {
    SCOPED_TRACE(n);
    HeapCase c = random_heap(n, 0, rng);
    check_sum(c, PopcountStyle::kCompressorTree, {}, static_cast<uint64_t>(n));
    HeapCase gates = random_heap(n, 0, rng);
    check_sum(gates, PopcountStyle::kCompressorGates, {}, static_cast<uint64_t>(n));
    HeapCase flat = random_heap(n, 0, rng);
    check_sum(flat, PopcountStyle::kFlatSum, {}, static_cast<uint64_t>(n));
  }
}

TEST(BitHeap, WeightedSumsAndConstants) {
  std::mt19937_64 rng(2);
  for (int trial = 0; trial < 300; ++trial) {
    SCOPED_TRACE(trial);
    HeapCase c = random_heap(1 + static_cast<int>(rng() % 80), static_cast<int>(rng() % 5), rng);
    const int64_t constant = static_cast<int64_t>(rng() % 50);
    c.heap.add_weighted(kConst1, constant);
    std::vector<Net> result = sum_heap(
        c.nl, c.heap, trial % 2 ? PopcountStyle::kCompressorTree : PopcountStyle::kCompressorGates);
    const int out = c.nl.add_output("y", static_cast<int>(result.size()));
    for (size_t b = 0; b < result.size(); ++b) c.nl.set_output(out, static_cast<int>(b), result[b]);
    c.nl.check();
    std::vector<std::vector<uint64_t>> in(2);
    for (size_t i = 0; i < c.weights.size(); ++i) in[0].push_back(rng());
    const auto values = c.nl.evaluate(in);
    for (int lane = 0; lane < 64; ++lane) {
      int64_t expected = constant;
      for (size_t i = 0; i < c.weights.size(); ++i)
        if ((in[0][i] >> lane) & 1) expected += c.weights[i];
      int64_t got = 0;
      for (size_t b = 0; b < result.size(); ++b)
        got |= static_cast<int64_t>((values[out][b] >> lane) & 1) << b;
      ASSERT_EQ(got, expected);
    }
  }
}

TEST(BitHeap, PipelineRegistersKeepTheSum) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 100; ++trial) {
    HeapCase c = random_heap(2 + static_cast<int>(rng() % 120), static_cast<int>(rng() % 3), rng);
    const int stages = compression_stages(c.heap) + static_cast<int>(rng() % 2);
    HeapPipeline pipeline{stages, {}};
    for (int p = 1; p <= stages + 1; ++p)
      if (rng() % 2) pipeline.register_after.push_back(p);
    check_sum(c, PopcountStyle::kCompressorTree, pipeline, rng());
    // Every neuron of a layer registers at every chosen position, finished or not.
    int64_t regs = c.nl.count(NodeOp::kReg);
    if (!pipeline.register_after.empty()) {
      EXPECT_GT(regs, 0);
    }
  }
}

TEST(BitHeap, ScaledHeapsWithAnyMultiplier) {
  std::mt19937_64 rng(4);
  for (int trial = 0; trial < 200; ++trial) {
    SCOPED_TRACE(trial);
    Netlist nl;
    const int in = nl.add_input("x", 300);
    std::vector<ScaledHeap> heaps;
    std::vector<std::pair<int, int64_t>> weight_of_input;  // input bit -> multiplier
    int next = 0;
    for (int h = 1 + static_cast<int>(rng() % 3); h > 0; --h) {
      ScaledHeap s;
      s.multiplier = 1 + static_cast<int64_t>(rng() % 12);  // 3, 5, 7, 11: several set bits
      for (int n = static_cast<int>(rng() % 90); n > 0; --n) {
        s.heap.add(nl.input(in, next), 0);
        weight_of_input.emplace_back(next++, s.multiplier);
      }
      heaps.push_back(std::move(s));
    }
    const auto style = trial % 3 == 0   ? PopcountStyle::kFlatSum
                       : trial % 3 == 1 ? PopcountStyle::kCompressorGates
                                        : PopcountStyle::kCompressorTree;
    const int stages = compression_stages(heaps, style);
    HeapPipeline pipeline{stages, {}};
    for (int p = 1; p <= stages + 1; ++p)
      if (rng() % 3 == 0) pipeline.register_after.push_back(p);
    int used = 0;
    const std::vector<Net> sum = sum_heaps(nl, heaps, style, pipeline, &used);
    if (style != PopcountStyle::kFlatSum) {
      EXPECT_EQ(used, stages);
    }
    const int out = nl.add_output("y", std::max<int>(1, static_cast<int>(sum.size())));
    for (size_t b = 0; b < sum.size(); ++b) nl.set_output(out, static_cast<int>(b), sum[b]);
    if (sum.empty()) nl.set_output(out, 0, kConst0);
    nl.check();
    std::vector<std::vector<uint64_t>> values(2);
    for (int i = 0; i < 300; ++i) values[0].push_back(rng());
    const auto result = nl.evaluate(values);
    for (int lane = 0; lane < 64; ++lane) {
      int64_t expected = 0;
      for (const auto& [bit, w] : weight_of_input)
        if ((values[0][bit] >> lane) & 1) expected += w;
      int64_t got = 0;
      for (size_t b = 0; b < sum.size(); ++b)
        got |= static_cast<int64_t>((result[out][b] >> lane) & 1) << b;
      ASSERT_EQ(got, expected) << "lane " << lane;
    }
  }
}

TEST(BitHeap, CountsAHeavilyWeightedLevelBeforeCopyingIt) {
  // 3 * popcount(200 bits): copying every bit twice would put 400 bits into the tree.
  Netlist nl;
  const int in = nl.add_input("x", 200);
  ScaledHeap h;
  h.multiplier = 3;
  for (int i = 0; i < 200; ++i) h.heap.add(nl.input(in, i), 0);
  sum_heaps(nl, {h}, PopcountStyle::kCompressorTree);
  EXPECT_LT(nl.count(NodeOp::kLut), 260);
}

TEST(BitHeap, CountersRemoveBitsAtLeastAsFastAsLutsAreSpent) {
  // A 6:3 counter costs 3 output functions for 3 removed bits; the plan must prefer it.
  const std::vector<Counter> plan = plan_stage({12});
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].n0, 6);
  EXPECT_EQ(plan[1].n0, 6);
  BitHeap heap;
  for (int i = 0; i < 256; ++i) heap.add(kConst1, 0);
  // Each stage about halves the height: 256 -> 2 rows in log2(128) = 7 stages.
  EXPECT_LE(compression_stages(heap), 7);
}

TEST(BitHeap, BitWidth) {
  EXPECT_EQ(bit_width(0), 0);
  EXPECT_EQ(bit_width(1), 1);
  EXPECT_EQ(bit_width(255), 8);
  EXPECT_EQ(bit_width(256), 9);
}

}  // namespace
}  // namespace lutnet::hdl
