// The fused LUT function against the 2^K-product form: same forward, same gradients.
#include "train/lut_dense_function.hpp"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>

#include "train/network.hpp"
#include "train_test_util.hpp"

namespace lutnet::train {
namespace {

using test::random_wiring;

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

// Every ISA this CPU has and 1 or 2 threads: the same forward values and input gradients, bit
// for bit; table gradients bit for bit at a given thread count.
class LutDenseIsaTest : public ::testing::TestWithParam<int> {};

void check_every_isa_and_thread_count(int64_t k, int64_t levels);

TEST_P(LutDenseIsaTest, EveryIsaAndThreadCountGivesTheSameBits) {
  for (const int64_t levels : {1, 2}) {
    SCOPED_TRACE(testing::Message() << levels << " level(s)");
    check_every_isa_and_thread_count(GetParam(), levels);
  }
}

void check_every_isa_and_thread_count(int64_t k, int64_t levels) {
  const int64_t n_in = 53, n_out = 13, conns = 200, batch = 70;
  const auto wiring = random_wiring(n_in, n_out, conns, k, 7);
  const auto s_data = torch::randint(0, 2, {batch, levels, n_in}).to(torch::kFloat) * 2 - 1;
  const auto t_data = torch::rand({levels, conns, int64_t{1} << k}) * 2 - 1;
  const auto upstream = torch::randn({batch, levels, n_out});
  const LutKernelIsa original = lut_kernel_isa();
  const int original_threads = torch::get_num_threads();
  struct Result {
    torch::Tensor y, grad_s, grad_t;
  };
  auto run = [&](LutKernelIsa isa, int threads) {
    set_lut_kernel_isa(isa);
    torch::set_num_threads(threads);
    auto s = s_data.clone().requires_grad_();
    auto t = t_data.clone().requires_grad_();
    const auto y = lut_dense(s, t, wiring);
    (y * upstream).sum().backward();
    return Result{y.detach(), s.grad(), t.grad()};
  };
  const Result base = run(LutKernelIsa::kScalar, 1);
  for (const LutKernelIsa isa : available_lut_kernel_isas()) {
    for (const int threads : {1, 2}) {
      SCOPED_TRACE(testing::Message()
                   << "isa " << static_cast<int>(isa) << ", threads " << threads);
      const Result r = run(isa, threads);
      EXPECT_TRUE(torch::equal(r.y, base.y));
      EXPECT_TRUE(torch::equal(r.grad_s, base.grad_s));
      // One batch chunk per level unless there are more threads than levels.
      if (threads <= levels) {
        EXPECT_TRUE(torch::equal(r.grad_t, base.grad_t));
      }
      EXPECT_TRUE(torch::allclose(r.grad_t, base.grad_t, 1e-5, 1e-6));
      EXPECT_TRUE(torch::equal(r.grad_t, run(isa, threads).grad_t)) << "not deterministic";
    }
  }
  set_lut_kernel_isa(original);
  torch::set_num_threads(original_threads);
}

// Every table size: one to four AVX-512 registers, one to eight AVX2 ones.
INSTANTIATE_TEST_SUITE_P(AllK, LutDenseIsaTest, ::testing::Values(2, 3, 4, 5, 6));

// Binary tables: the kernel's own sign and straight-through gradient equal lut_dense over
// ste_sign(T) bit for bit, on every ISA, with entries outside the pass band and exactly at 0.
TEST_P(LutDenseIsaTest, BinaryTablesEqualTheKernelOverSteSign) {
  const int64_t k = GetParam(), n_in = 41, n_out = 9, conns = 150, batch = 37, levels = 2;
  const auto wiring = random_wiring(n_in, n_out, conns, k, 11);
  const auto s_data = torch::randint(0, 2, {batch, levels, n_in}).to(torch::kFloat) * 2 - 1;
  auto t_data = torch::rand({levels, conns, int64_t{1} << k}) * 3 - 1.5;
  t_data.view(-1).index_put_({torch::arange(0, t_data.numel(), 7)}, 0.0f);
  const auto upstream = torch::randn({batch, levels, n_out});
  const LutKernelIsa original = lut_kernel_isa();
  for (const LutKernelIsa isa : available_lut_kernel_isas()) {
    SCOPED_TRACE(testing::Message() << "isa " << static_cast<int>(isa));
    set_lut_kernel_isa(isa);
    auto s1 = s_data.clone().requires_grad_();
    auto t1 = t_data.clone().requires_grad_();
    const auto y1 = lut_dense(s1, t1, wiring, true);
    (y1 * upstream).sum().backward();
    auto s2 = s_data.clone().requires_grad_();
    auto t2 = t_data.clone().requires_grad_();
    const auto y2 = lut_dense(s2, ste_sign(t2), wiring);
    (y2 * upstream).sum().backward();
    EXPECT_TRUE(torch::equal(y1, y2));
    EXPECT_TRUE(torch::equal(s1.grad(), s2.grad()));
    EXPECT_TRUE(torch::equal(t1.grad(), t2.grad()));
    EXPECT_TRUE(t1.grad().masked_select(t_data.abs() > 1).eq(0).all().item<bool>());
  }
  set_lut_kernel_isa(original);
}

// Two threads must be able to split the work: at::parallel_for runs serially in code built
// without OpenMP, and the kernels did so unnoticed until session 8.
TEST(LutDense, KernelsCanRunOnSeveralThreads) {
  EXPECT_TRUE(lut_kernels_run_in_parallel());
  const int original = torch::get_num_threads();
  torch::set_num_threads(2);
  std::atomic<int> max_thread{0};
  at::parallel_for(0, 2, 1, [&](int64_t, int64_t) {
    max_thread = std::max(max_thread.load(), at::get_thread_num());
  });
  torch::set_num_threads(original);
  EXPECT_EQ(max_thread.load(), 1) << "at::parallel_for ran on one thread";
}

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
