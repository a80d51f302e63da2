// The fused LUT function against the 2^K-product form: same forward, same gradients.
#include "train/lut_dense_function.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace lutnet::train {
namespace {

LutWiring random_wiring(int64_t n_in, int64_t n_out, int64_t conns, int64_t k, uint64_t seed) {
  torch::manual_seed(seed);
  LutWiring w;
  w.conn_input = torch::randint(0, n_in, {conns}, torch::kInt32);
  w.conn_output = torch::randint(0, n_out, {conns}, torch::kInt32);
  std::vector<torch::Tensor> rows = {torch::arange(n_in, torch::kInt32)};
  for (int64_t j = 1; j < k; ++j) rows.push_back(torch::randperm(n_in, torch::kInt32));
  w.perms = torch::stack(rows);
  w.num_outputs = n_out;
  return w;
}

class LutDenseTest : public ::testing::TestWithParam<int> {};

TEST_P(LutDenseTest, FusedMatchesNaiveForwardAndGradients) {
  const int64_t k = GetParam(), n_in = 37, n_out = 11, conns = 90, batch = 7, levels = 2;
  const auto wiring = random_wiring(n_in, n_out, conns, k, 100 + k);
  const auto s_data = torch::randint(0, 2, {batch, levels, n_in}).to(torch::kFloat) * 2 - 1;
  const auto t_data = torch::rand({levels, conns, int64_t{1} << k}) * 2 - 1;
  const auto upstream = torch::randn({batch, levels, n_out});

  auto s1 = s_data.clone().requires_grad_();
  auto t1 = t_data.clone().requires_grad_();
  const auto y1 = lut_dense(s1, t1, wiring);
  (y1 * upstream).sum().backward();

  auto s2 = s_data.clone().requires_grad_();
  auto t2 = t_data.clone().requires_grad_();
  const auto y2 = lut_dense_naive(s2, t2, wiring);
  (y2 * upstream).sum().backward();

  EXPECT_TRUE(torch::allclose(y1, y2, 1e-4, 1e-5)) << "forward differs at K=" << k;
  EXPECT_TRUE(torch::allclose(t1.grad(), t2.grad(), 1e-4, 1e-5)) << "table gradient, K=" << k;
  EXPECT_TRUE(torch::allclose(s1.grad(), s2.grad(), 1e-4, 1e-5)) << "input gradient, K=" << k;
}

INSTANTIATE_TEST_SUITE_P(AllK, LutDenseTest, ::testing::Values(2, 3, 4, 5, 6));

TEST(LutDense, ForwardIsTableLookupWithInputZeroAsLeastSignificantBit) {
  // One connection, K=2: input 0 = +1, its extra input = -1 -> address 0b01 = 1.
  LutWiring w;
  w.conn_input = torch::tensor({0}, torch::kInt32);
  w.conn_output = torch::tensor({0}, torch::kInt32);
  w.perms = torch::tensor({0, 1, 1, 0}, torch::kInt32).view({2, 2});
  w.num_outputs = 1;
  const auto s = torch::tensor({1.0f, -1.0f}).view({1, 1, 2});
  const auto t = torch::tensor({10.0f, 20.0f, 30.0f, 40.0f}).view({1, 1, 4});
  EXPECT_FLOAT_EQ(lut_dense(s, t, w).item<float>(), 20.0f);
}

}  // namespace
}  // namespace lutnet::train
