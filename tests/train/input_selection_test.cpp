// Learned input selection: the scores' gradient against finite differences of the multilinear
// LUT, the selected wiring against the plain one, and the starting choice.
#include "train/input_selection.hpp"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/lut_dense_function.hpp"
#include "train_test_util.hpp"

namespace lutnet::train {
namespace {

using test::random_wiring;

struct TinyLayer {
  int64_t k = 3, n_in = 9, n_out = 4, conns = 15, batch = 6, levels = 2;
  LutWiring wiring = random_wiring(n_in, n_out, conns, k, 11);
  torch::Tensor s = torch::randint(0, 2, {batch, levels, n_in}).to(torch::kFloat) * 2 - 1;
  torch::Tensor tables = torch::rand({levels, conns, int64_t{1} << k}) * 2 - 1;
  torch::Tensor upstream = torch::randn({batch, levels, n_out});
  // Scores with a random choice per slot (not the wiring's), so that the test covers choices
  // that moved.
  torch::Tensor scores =
      initial_selection_scores(wiring.perms, 5) + torch::rand({k - 1, n_in, n_in});

  LutWiring stacked() const {
    LutWiring w = wiring;
    w.perms = stacked_perms(k, n_in, torch::kCPU);
    return w;
  }
};

// The scores' gradient is the derivative of the loss when slot j's input of input i moves toward
// candidate c's values: u_{j,i} + eps * s_c. The multilinear form is linear in each input, so the
// central difference is exact up to rounding.
TEST(InputSelection, ScoreGradientMatchesFiniteDifferences) {
  TinyLayer t;
  auto scores = t.scores.clone().requires_grad_();
  const auto rows = select_inputs(t.s, scores);
  (lut_dense(rows, t.tables, t.stacked()) * t.upstream).sum().backward();
  const auto grad = scores.grad();
  ASSERT_TRUE(grad.defined());

  const auto base = rows.detach();
  const auto loss = [&](const torch::Tensor& r) {
    return (lut_dense_naive(r, t.tables, t.stacked()) * t.upstream).sum().item<double>();
  };
  const double eps = 0.25;
  int checked = 0;
  for (int64_t j = 0; j + 1 < t.k; ++j)
    for (int64_t i = 0; i < t.n_in; ++i)
      for (int64_t c = 0; c < t.n_in; ++c) {
        if (c == i) {
          EXPECT_EQ(grad[j][i][c].item<float>(), 0.0f) << "the own input's score moved";
          continue;
        }
        const int64_t slot = (j + 1) * t.n_in + i;
        auto plus = base.clone(), minus = base.clone();
        plus.select(2, slot).add_(eps * t.s.select(2, c));
        minus.select(2, slot).sub_(eps * t.s.select(2, c));
        const double fd = (loss(plus) - loss(minus)) / (2 * eps);
        EXPECT_NEAR(grad[j][i][c].item<double>(), fd, 1e-4 * (1 + std::abs(fd)))
            << "slot " << j + 1 << ", input " << i << ", candidate " << c;
        ++checked;
      }
  EXPECT_EQ(checked, (t.k - 1) * t.n_in * (t.n_in - 1));
}

// Reading the selected inputs through the stacked wiring computes what the plain wiring with the
// selected perms computes, forward and input gradient: the exported model is the trained one.
TEST(InputSelection, SelectedRowsMatchThePlainWiringWithTheSelectedPerms) {
  TinyLayer t;
  auto s1 = t.s.clone().requires_grad_();
  const auto y1 = lut_dense(select_inputs(s1, t.scores), t.tables, t.stacked());
  (y1 * t.upstream).sum().backward();

  LutWiring plain = t.wiring;
  plain.perms = selected_perms(t.scores);
  auto s2 = t.s.clone().requires_grad_();
  const auto y2 = lut_dense(s2, t.tables, plain);
  (y2 * t.upstream).sum().backward();

  EXPECT_TRUE(torch::equal(y1, y2));
  EXPECT_TRUE(torch::allclose(s1.grad(), s2.grad(), 1e-5, 1e-6));
  EXPECT_FALSE(torch::equal(plain.perms, t.wiring.perms)) << "the test's choice did not move";
}

// The scores start at the wiring's random choice, except where a permutation maps an input to
// itself: a LUT's own input is never its extra input.
TEST(InputSelection, StartsAtTheRandomChoiceAndNeverPicksTheOwnInput) {
  const auto wiring = random_wiring(200, 10, 50, 4, 3);
  const auto chosen = selected_perms(initial_selection_scores(wiring.perms, 9));
  const auto own = torch::arange(200, torch::kInt32).unsqueeze(0).expand({3, 200});
  const auto random = wiring.perms.slice(0, 1), learned = chosen.slice(0, 1);
  EXPECT_TRUE(torch::equal(chosen[0], wiring.perms[0]));
  EXPECT_TRUE(
      torch::equal(learned.masked_select(random != own), random.masked_select(random != own)));
  EXPECT_FALSE((learned == own).any().item<bool>());
}

}  // namespace
}  // namespace lutnet::train
