#include "train/training_benchmark.hpp"

#include <chrono>
#include <functional>
#include <random>

#include "train/augmentation.hpp"
#include "train/fused_adam.hpp"
#include "train/network.hpp"
#include "train/network_setup.hpp"
#include "train/trainer.hpp"

namespace lutnet::train {

namespace {

using Augment = std::function<torch::Tensor(const torch::Tensor&)>;

double time_steps(Network& net, bool lut_stage, WeightMode weights, TableMode tables,
                  const torch::Tensor& x, const torch::Tensor& y, int steps, bool freeze_magnitudes,
                  const Augment& augment = nullptr) {
  FusedAdam optimizer(net.parameters(lut_stage, freeze_magnitudes), 0.01);
  auto step = [&] {
    const auto xb = augment ? augment(x) : x;
    const auto loss =
        torch::nn::functional::cross_entropy(net.forward(xb, true, weights, tables), y);
    optimizer.release_gradients();
    loss.backward();
    optimizer.step();
    net.clip();
    (void)loss.item<double>();  // wait for the device, as the trainer does
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
      time_steps(net, false, WeightMode::kRealClipped, TableMode::kReal, x, y, steps, false);
  net.freeze_level_ratios(config.level_ratio_bits);
  net.prune(keep_fractions(config));
  const auto lut = lut_layer_mask(config);
  for (size_t i = 0; i < net.layers().size(); ++i)
    if (lut[i]) {
      net.expand_to_luts(i, config.k, false, config.seed);
      speed.lut_connections += net.layers()[i].wiring.conn_input.numel();
    }
  speed.lut_step_seconds =
      time_steps(net, true, WeightMode::kBinary, TableMode::kBinary, x, y, steps, true);
  if (include_naive) {
    net.set_naive_luts(true);
    speed.naive_lut_step_seconds =
        time_steps(net, true, WeightMode::kBinary, TableMode::kBinary, x, y, steps, true);
  }
  return speed;
}

StageSpeeds measure_stage_speeds(const TrainConfig& config, const std::vector<int>& image_shape,
                                 int64_t num_classes, int64_t train_images, int steps) {
  validate(config);
  torch::set_num_threads(config.threads);
  const torch::Device device(config.device);
  const int64_t batch = config.bnn.batch_size;
  const auto encoding = input_encoding(config, image_shape);
  torch::manual_seed(config.seed);
  const auto x =
      (torch::randint(0, 2, {batch, int64_t{encoding.num_bits()}}).to(torch::kFloat) * 2 - 1)
          .to(device);
  const auto y = torch::randint(0, num_classes, {batch}, torch::kLong).to(device);
  std::mt19937_64 rng(config.seed);
  const Augment augment = [&](const torch::Tensor& xb) {
    auto out = random_shift(xb, image_shape, config.input_bits, config.augment_shift, rng);
    return config.augment_flip ? random_flip(out, image_shape, config.input_bits, rng) : out;
  };
  StageSpeeds speed;
  speed.steps_per_epoch = (train_images + batch - 1) / batch;
  Network net = make_network(config, encoding, num_classes);
  net.to(device);
  for (const auto& layer : net.layers()) speed.weights += layer.weight.numel();
  speed.step_seconds[0] = time_steps(net, false, WeightMode::kRealClipped, TableMode::kReal, x, y,
                                     steps, false, augment);
  net.freeze_level_ratios(config.level_ratio_bits);
  net.prune(keep_fractions(config));
  speed.step_seconds[1] =
      time_steps(net, false, WeightMode::kBinary, TableMode::kReal, x, y, steps, false, augment);
  expand_lut_layers(net, config);
  for (const auto& layer : net.layers())
    if (layer.is_lut) speed.lut_connections += layer.wiring.conn_input.numel();
  speed.step_seconds[2] =
      time_steps(net, true, WeightMode::kBinary, TableMode::kReal, x, y, steps, false, augment);
  speed.step_seconds[3] =
      time_steps(net, true, WeightMode::kBinary, TableMode::kBinary, x, y, steps, true, augment);
  return speed;
}

}  // namespace lutnet::train
