// The tensor-operation LUT function against the fused CPU kernel and the 2^K-product oracle.
#include "train/lut_dense_portable.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/lut_dense_function.hpp"
#include "train_test_util.hpp"

namespace lutnet::train {
namespace {

using test::random_wiring;

struct Result {
  torch::Tensor y, grad_s, grad_t;
};

template <typename Function>
Result run(const Function& f, const torch::Tensor& s_data, const torch::Tensor& t_data,
           const torch::Tensor& upstream) {
  auto s = s_data.clone().requires_grad_();
  auto t = t_data.clone().requires_grad_();
  const auto y = f(s, t);
  (y * upstream).sum().backward();
  return {y.detach(), s.grad(), t.grad()};
}

void expect_close(const Result& a, const Result& b, const char* what) {
  EXPECT_TRUE(torch::allclose(a.y, b.y, 1e-5, 1e-6)) << "forward vs " << what;
  EXPECT_TRUE(torch::allclose(a.grad_t, b.grad_t, 1e-5, 1e-6)) << "table gradient vs " << what;
  EXPECT_TRUE(torch::allclose(a.grad_s, b.grad_s, 1e-5, 1e-6)) << "input gradient vs " << what;
}

class LutDensePortableTest : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(LutDensePortableTest, MatchesTheFusedKernelAndTheNaiveForm) {
  const auto [k, levels] = GetParam();
  const int64_t n_in = 29, n_out = 7, conns = 120, batch = 13;
  const auto wiring = random_wiring(n_in, n_out, conns, k, 300 + k);
  const auto s = torch::randint(0, 2, {batch, levels, n_in}).to(torch::kFloat) * 2 - 1;
  const auto t = torch::rand({levels, conns, int64_t{1} << k}) * 2 - 1;
  const auto upstream = torch::randn({batch, levels, n_out});
  const Result portable =
      run([&](const auto& x, const auto& y) { return lut_dense_portable(x, y, wiring); }, s, t,
          upstream);
  expect_close(
      portable,
      run([&](const auto& x, const auto& y) { return lut_dense(x, y, wiring); }, s, t, upstream),
      "the fused kernel");
  expect_close(portable,
               run([&](const auto& x, const auto& y) { return lut_dense_naive(x, y, wiring); }, s,
                   t, upstream),
               "the naive form");
}

INSTANTIATE_TEST_SUITE_P(AllKAndLevels, LutDensePortableTest,
                         ::testing::Combine(::testing::Values(2, 3, 4, 5, 6),
                                            ::testing::Values(1, 2)));

TEST(LutDensePortable, ZeroCountsAsBitZeroAndBatchOneWorks) {
  // One connection, K = 2: input 0 = 0 (bit 0), its extra input = +1 -> address 0b10 = 2.
  LutWiring w;
  w.conn_input = torch::tensor({0}, torch::kInt32);
  w.conn_output = torch::tensor({0}, torch::kInt32);
  w.perms = torch::tensor({0, 1, 1, 0}, torch::kInt32).view({2, 2});
  w.num_outputs = 1;
  const auto s = torch::tensor({0.0f, 1.0f}).view({1, 1, 2});
  const auto t = torch::tensor({10.0f, 20.0f, 30.0f, 40.0f}).view({1, 1, 4});
  EXPECT_FLOAT_EQ(lut_dense_portable(s, t, w).item<float>(), 30.0f);
  EXPECT_FLOAT_EQ(lut_dense(s, t, w).item<float>(), 30.0f);
}

TEST(LutDensePortable, RunsOnCudaLikeOnTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device on this machine";
  const auto wiring = random_wiring(31, 5, 90, 4, 9);
  const auto s = torch::randint(0, 2, {17, 2, 31}).to(torch::kFloat) * 2 - 1;
  const auto t = torch::rand({2, 90, 16}) * 2 - 1;
  const auto upstream = torch::randn({17, 2, 5});
  const torch::Device cuda(torch::kCUDA);
  LutWiring on_cuda = wiring;
  on_cuda.conn_input = wiring.conn_input.to(cuda);
  on_cuda.conn_output = wiring.conn_output.to(cuda);
  on_cuda.perms = wiring.perms.to(cuda);
  const Result gpu =
      run([&](const auto& x, const auto& y) { return lut_dense_portable(x, y, on_cuda); },
          s.to(cuda), t.to(cuda), upstream.to(cuda));
  const Result cpu =
      run([&](const auto& x, const auto& y) { return lut_dense_portable(x, y, wiring); }, s, t,
          upstream);
  expect_close({gpu.y.cpu(), gpu.grad_s.cpu(), gpu.grad_t.cpu()}, cpu, "the CPU");
}

}  // namespace
}  // namespace lutnet::train
