// lutnet train-bench: training speed of the BNN stage and of the LUT stage, fused vs naive.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/command_registry.hpp"
#include "train/config.hpp"
#include "train/training_benchmark.hpp"

namespace lutnet::cli {
namespace {

struct TrainBenchFlags {
  std::vector<int> ks = {4, 6};
  int steps = 20;
  int batch = 100;
  int input_bits = 1;
  std::vector<double> keep = {0.1};
  bool naive = true;
  int threads = 1;
};

void add_train_bench(CLI::App& app) {
  auto f = std::make_shared<TrainBenchFlags>();
  auto* cmd = app.add_subcommand(
      "train-bench",
      "Measure training speed on the MNIST network shape (784-256-256-256-256-10, random data): "
      "seconds per epoch (55,000 images) of the BNN stage and of the LUT stage for each K, with "
      "the fused LUT function and with the naive 2^K-product form.");
  cmd->add_option("--k", f->ks, "LUT sizes to measure")->delimiter(',')->capture_default_str();
  cmd->add_option("--steps", f->steps, "Timed steps per measurement")->capture_default_str();
  cmd->add_option("--batch", f->batch, "Batch size")->capture_default_str();
  cmd->add_option("--input-bits", f->input_bits, "Thermometer bits per pixel")
      ->capture_default_str();
  cmd->add_option("--keep", f->keep, "Keep fraction(s)")->delimiter(',');
  cmd->add_option("--threads", f->threads, "Intra-op threads")->capture_default_str();
  cmd->add_flag("!--no-naive", f->naive, "Skip the naive form");
  cmd->callback([f] {
    constexpr int64_t kImagesPerEpoch = 55000;
    std::cout << fmt::format("{:>3} {:>12} {:>14} {:>14} {:>16} {:>8}\n", "K", "connections",
                             "BNN s/epoch", "LUT s/epoch", "naive s/epoch", "speedup");
    for (int k : f->ks) {
      train::TrainConfig c = train::preset("paper-mnist");
      c.k = k;
      c.keep_fraction = f->keep;
      c.threads = f->threads;
      c.lut_binary.batch_size = f->batch;
      train::validate(c);
      const auto s = train::measure_training_speed(c, 784 * f->input_bits, 10, kImagesPerEpoch,
                                                   f->steps, f->naive);
      const double epoch = static_cast<double>(s.steps_per_epoch);
      std::cout << fmt::format(
          "{:>3} {:>12} {:>14.1f} {:>14.1f} {:>16} {:>8}\n", k, s.lut_connections,
          s.bnn_step_seconds * epoch, s.lut_step_seconds * epoch,
          f->naive ? fmt::format("{:.1f}", s.naive_lut_step_seconds * epoch) : "-",
          f->naive ? fmt::format("{:.1f}x", s.naive_lut_step_seconds / s.lut_step_seconds) : "-");
    }
  });
}

const CommandRegistration registration(70, add_train_bench);

}  // namespace
}  // namespace lutnet::cli
