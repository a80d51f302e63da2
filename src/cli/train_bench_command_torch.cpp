// lutnet train-bench: training speed of the BNN stage and of the LUT stage, fused vs naive.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/command_registry.hpp"
#include "cli/train_flags.hpp"
#include "core/error.hpp"
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
  // --conv: the four stages of a conv preset on CIFAR-10-shaped random data.
  bool conv = false;
  std::string preset = "cnv";
  std::string device = "cpu";
};

// Seconds per epoch of every stage of a conv preset, and the time its schedule would take.
void run_conv_bench(const TrainBenchFlags& f) {
  constexpr int64_t kImagesPerEpoch = 50000;  // CIFAR-10's training set
  train::TrainConfig c = train::preset(f.preset);
  c.threads = f.threads;
  c.device = f.device;
  for (train::StageConfig* s : {&c.bnn, &c.retrain, &c.lut_real, &c.lut_binary})
    s->batch_size = f.batch;
  if (c.conv.empty())
    throw Error("train-bench --conv: preset '" + f.preset + "' has no conv layers");
  const std::vector<int> shape = {3, 32, 32};
  const auto s = train::measure_stage_speeds(c, shape, 10, kImagesPerEpoch, f.steps);
  const char* names[] = {"bnn", "retrain", "lut_real", "lut_binary"};
  const int epochs[] = {c.bnn.epochs, c.retrain.epochs, c.lut_real.epochs, c.lut_binary.epochs};
  std::cout << fmt::format(
      "preset {} (conv {}, dense {}), 3x32x32 random images, batch {}, {} thread(s), {}: {} "
      "weights, {} LUT connections\n",
      f.preset, train::format_conv_spec(c.conv), fmt::join(c.hidden, ","), f.batch, f.threads,
      f.device, s.weights, s.lut_connections);
  std::cout << fmt::format("{:<11} {:>10} {:>12} {:>8} {:>12}\n", "stage", "s/step", "s/epoch",
                           "epochs", "stage time");
  double total = 0;
  for (int i = 0; i < 4; ++i) {
    const double epoch = s.step_seconds[i] * static_cast<double>(s.steps_per_epoch);
    total += epoch * epochs[i];
    std::cout << fmt::format("{:<11} {:>10.4f} {:>12.1f} {:>8} {:>11.1f}h\n", names[i],
                             s.step_seconds[i], epoch, epochs[i], epoch * epochs[i] / 3600);
  }
  std::cout << fmt::format(
      "schedule {}/{}/{}/{} on {} images per epoch: {:.1f} h ({:.1f} days), training steps only "
      "(validation passes and the final export not included)\n",
      epochs[0], epochs[1], epochs[2], epochs[3], kImagesPerEpoch, total / 3600, total / 86400);
}

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
  cmd->add_flag("--conv", f->conv,
                "Instead: seconds per epoch of all four stages of a conv preset (--preset) on "
                "CIFAR-10-shaped random data (50,000 images per epoch), and the time of its "
                "schedule");
  cmd->add_option("--preset", f->preset, "Conv preset for --conv (cnv, cnv-small)")
      ->capture_default_str();
  cmd->add_option("--device", f->device, "Device for --conv: cpu, or cuda where LibTorch has it")
      ->capture_default_str();
  cmd->callback([f] {
    cli::tune_allocator_for_training();
    if (f->conv) {
      run_conv_bench(*f);
      return;
    }
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

const CommandRegistration kTrainBenchRegistration(70, add_train_bench);

}  // namespace
}  // namespace lutnet::cli
