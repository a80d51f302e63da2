#include "train/training_benchmark.hpp"

#include <chrono>

#include "train/network.hpp"

namespace lutnet::train {

namespace {

double time_steps(Network& net, bool lut_stage, WeightMode weights, TableMode tables,
                  const torch::Tensor& x, const torch::Tensor& y, int steps) {
  torch::optim::Adam optimizer(net.parameters(lut_stage, lut_stage), torch::optim::AdamOptions(0.01));
  auto step = [&] {
    const auto loss =
        torch::nn::functional::cross_entropy(net.forward(x, true, weights, tables), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    net.clip();
  };
  step();  // warm-up: allocations, first-touch
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / steps;
}

}  // namespace

TrainingSpeed measure_training_speed(const TrainConfig& config, int64_t num_inputs,
                                     int64_t num_classes, int64_t train_images, int steps,
                                     bool include_naive) {
  torch::set_num_threads(config.threads);
  const int64_t batch = config.lut_binary.batch_size;
  torch::manual_seed(config.seed);
  const auto x = torch::randint(0, 2, {batch, num_inputs}).to(torch::kFloat) * 2 - 1;
  const auto y = torch::randint(0, num_classes, {batch}, torch::kLong);
  TrainingSpeed speed;
  speed.steps_per_epoch = (train_images + batch - 1) / batch;
  Network net(num_inputs, config.hidden, num_classes, config.levels, config.seed);
  speed.bnn_step_seconds =
      time_steps(net, false, WeightMode::kRealClipped, TableMode::kReal, x, y, steps);
  net.freeze_level_ratios(config.level_ratio_bits);
  net.prune(keep_fractions(config));
  const auto lut = lut_layer_mask(config);
  for (size_t i = 0; i < net.layers().size(); ++i)
    if (lut[i]) {
      net.expand_to_luts(i, config.k, false, config.seed);
      speed.lut_connections += net.layers()[i].wiring.conn_input.numel();
    }
  speed.lut_step_seconds =
      time_steps(net, true, WeightMode::kBinary, TableMode::kBinary, x, y, steps);
  if (include_naive) {
    net.set_naive_luts(true);
    speed.naive_lut_step_seconds =
        time_steps(net, true, WeightMode::kBinary, TableMode::kBinary, x, y, steps);
  }
  return speed;
}

}  // namespace lutnet::train
