// reduce_lut: the reduced table computes the same function, with only the inputs it needs.
#include "hdl/lut_function.hpp"

#include <gtest/gtest.h>

#include <random>

namespace lutnet::hdl {
namespace {

using Kind = ReducedLut::Kind;

TEST(ReduceLut, XnorConnectionsAreFree) {
  const uint32_t in[] = {7};
  EXPECT_EQ(reduce_lut(in, 0b10).kind, Kind::kWire);
  EXPECT_EQ(reduce_lut(in, 0b01).kind, Kind::kInverter);
  EXPECT_EQ(reduce_lut(in, 0b00).kind, Kind::kConst);
  const ReducedLut one = reduce_lut(in, 0b11);
  EXPECT_EQ(one.kind, Kind::kConst);
  EXPECT_EQ(one.table, 1u);
  EXPECT_EQ(reduce_lut(in, 0b10).inputs, std::vector<uint32_t>{7});
}

TEST(ReduceLut, DropsIgnoredAndRepeatedInputs) {
  // out = in0 AND in2 over inputs {3, 5, 9}: in1 (position 5) is ignored.
  const uint32_t in[] = {3, 5, 9};
  const ReducedLut r = reduce_lut(in, 0b10100000);
  EXPECT_EQ(r.kind, Kind::kLut);
  EXPECT_EQ(r.inputs, (std::vector<uint32_t>{3, 9}));
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
    ASSERT_LE(r.inputs.size(), static_cast<size_t>(k));
    if (r.kind == Kind::kLut) {
      ASSERT_GE(r.inputs.size(), 2u);
    }
    for (unsigned values = 0; values < 32; ++values) {
      auto bit = [&](uint32_t p) { return ((values >> p) & 1) != 0; };
      unsigned address = 0;
      for (int i = 0; i < k; ++i) address |= static_cast<unsigned>(bit(in[i])) << i;
      ASSERT_EQ(r.eval(bit), ((table >> address) & 1) != 0) << "trial " << trial;
    }
  }
}

}  // namespace
}  // namespace lutnet::hdl
