// reduce_lut: the reduced table computes the same function, with only the inputs it needs, and
// table_depends_on_input agrees with it.
#include "core/lut_function.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <span>
#include <vector>

namespace lutnet {
namespace {

using Kind = ReducedLut::Kind;

std::vector<uint32_t> to_vector(std::span<const uint32_t> s) { return {s.begin(), s.end()}; }

TEST(ReduceLut, XnorConnectionsAreFree) {
  const uint32_t in[] = {7};
  EXPECT_EQ(reduce_lut(in, 0b10).kind, Kind::kWire);
  EXPECT_EQ(reduce_lut(in, 0b01).kind, Kind::kInverter);
  EXPECT_EQ(reduce_lut(in, 0b00).kind, Kind::kConst);
  const ReducedLut one = reduce_lut(in, 0b11);
  EXPECT_EQ(one.kind, Kind::kConst);
  EXPECT_EQ(one.table, 1u);
  EXPECT_EQ(to_vector(reduce_lut(in, 0b10).input_list()), std::vector<uint32_t>{7});
}

TEST(ReduceLut, DropsIgnoredAndRepeatedInputs) {
  // out = in0 AND in2 over inputs {3, 5, 9}: in1 (position 5) is ignored.
  const uint32_t in[] = {3, 5, 9};
  const ReducedLut r = reduce_lut(in, 0b10100000);
  EXPECT_EQ(r.kind, Kind::kLut);
  EXPECT_EQ(to_vector(r.input_list()), (std::vector<uint32_t>{3, 9}));
  EXPECT_EQ(r.table, 0b1000u);
  // XOR of a position with itself is constant 0.
  const uint32_t same[] = {4, 4};
  EXPECT_EQ(reduce_lut(same, 0b0110).kind, Kind::kConst);
  EXPECT_EQ(reduce_lut(same, 0b0110).table, 0u);
}

TEST(ReduceLut, RandomTablesKeepTheirFunction) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 2000; ++trial) {
    const int k = 1 + static_cast<int>(rng() % 6);
    std::vector<uint32_t> in(k);
    for (auto& p : in) p = static_cast<uint32_t>(rng() % 5);  // repeats are likely
    uint64_t table = rng();
    if (k < 6) table &= (uint64_t{1} << (1 << k)) - 1;
    if (trial % 7 == 0) table &= 0x5555555555555555u;  // some tables ignore input 0
    const ReducedLut r = reduce_lut(in, table);
    ASSERT_LE(r.input_list().size(), static_cast<size_t>(k));
    if (r.kind == Kind::kLut) {
      ASSERT_GE(r.input_list().size(), 2u);
    }
    for (unsigned values = 0; values < 32; ++values) {
      auto bit = [&](uint32_t p) { return ((values >> p) & 1) != 0; };
      unsigned address = 0;
      for (int i = 0; i < k; ++i) address |= static_cast<unsigned>(bit(in[i])) << i;
      ASSERT_EQ(r.eval(bit), ((table >> address) & 1) != 0) << "trial " << trial;
    }
  }
}

TEST(ReduceLut, DependsOnInputMatchesTheReduction) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 500; ++trial) {
    const int k = 1 + static_cast<int>(rng() % 6);
    uint64_t table = rng() & (k < 6 ? (uint64_t{1} << (1 << k)) - 1 : ~uint64_t{0});
    if (trial % 3 == 0) table &= 0x3333333333333333u;  // ignores input 1
    std::vector<uint32_t> in(k);
    for (int i = 0; i < k; ++i) in[i] = static_cast<uint32_t>(10 + i);  // distinct
    const ReducedLut r = reduce_lut(in, table);
    for (int i = 0; i < k; ++i) {
      const auto list = r.input_list();
      const bool kept = std::find(list.begin(), list.end(), in[i]) != list.end();
      EXPECT_EQ(table_depends_on_input(table, k, i), kept) << "trial " << trial << " input " << i;
    }
  }
  EXPECT_FALSE(table_depends_on_input(0xAA, 3, 1));
  EXPECT_TRUE(table_depends_on_input(0xAA, 3, 0));
}

}  // namespace
}  // namespace lutnet
