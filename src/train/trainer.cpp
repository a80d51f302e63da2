#include "train/trainer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/input_encoding.hpp"
#include "core/model_io.hpp"
#include "core/reference_evaluator.hpp"
#include "train/augmentation.hpp"
#include "train/checkpoint.hpp"
#include "train/export_model.hpp"
#include "train/network.hpp"

namespace lutnet::train {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kStageNames[] = {"bnn", "retrain", "lut_real", "lut_binary"};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

const StageConfig& stage_config(const TrainConfig& c, int64_t stage) {
  switch (stage) {
    case 0:
      return c.bnn;
    case 1:
      return c.retrain;
    case 2:
      return c.lut_real;
    default:
      return c.lut_binary;
  }
}

torch::Tensor labels_tensor(const Dataset& data) {
  return torch::tensor(std::vector<int64_t>(data.labels.begin(), data.labels.end()), torch::kLong);
}

struct Modes {
  WeightMode weights;
  TableMode tables;
};
Modes stage_modes(int64_t stage) {
  return {stage == 0 ? WeightMode::kRealClipped : WeightMode::kBinary,
          stage >= 3 ? TableMode::kBinary : TableMode::kReal};
}

double accuracy(Network& net, const torch::Tensor& x, const torch::Tensor& y, Modes modes,
                torch::Tensor* predictions = nullptr) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < x.size(0); start += 1000) {
    const auto end = std::min<int64_t>(start + 1000, x.size(0));
    parts.push_back(
        net.forward(x.slice(0, start, end), false, modes.weights, modes.tables).argmax(1));
  }
  const auto pred = torch::cat(parts);
  if (predictions) *predictions = pred;
  return pred.eq(y).to(torch::kDouble).mean().item<double>();
}

double reference_accuracy(const Model& model, const Dataset& data) {
  return lutnet::reference_accuracy(model, data.pixels.data(), data.labels.data(), data.size());
}

}  // namespace

InputEncoding input_encoding(const TrainConfig& config, const std::vector<int>& shape) {
  InputEncoding e;
  e.shape = shape;
  e.thresholds = thermometer_thresholds(config.input_bits);
  return e;
}

torch::Tensor encode_images(const Dataset& data, const InputEncoding& encoding) {
  const int64_t bits = encoding.num_bits();
  auto out = torch::empty({static_cast<int64_t>(data.size()), bits});
  std::vector<uint8_t> buffer(bits);
  float* o = out.data_ptr<float>();
  for (size_t i = 0; i < data.size(); ++i) {
    encode_input(encoding, data.image(i), buffer.data());
    for (int64_t b = 0; b < bits; ++b) o[i * bits + b] = buffer[b] ? 1.0f : -1.0f;
  }
  return out;
}

TrainingData load_training_data(const TrainConfig& config) {
  TrainingData d;
  Dataset full, test;
  if (config.dataset == "synthetic") {
    // A learnable synthetic task, for tests and smoke runs without downloads.
    const auto all = make_synthetic_dataset(4000, {1, 8, 8}, 4, config.seed);
    full = take_first(all, 3000);
    test.name = all.name;
    test.shape = all.shape;
    test.num_classes = all.num_classes;
    test.pixels.assign(all.pixels.begin() + 3000 * all.image_size(), all.pixels.end());
    test.labels.assign(all.labels.begin() + 3000, all.labels.end());
  } else {
    const auto dir =
        config.data_dir.empty() ? default_data_dir() : std::filesystem::path(config.data_dir);
    full = load_named_dataset(config.dataset, DatasetPart::kTrain, dir);
    test = load_named_dataset(config.dataset, DatasetPart::kTest, dir);
  }
  if (config.train_limit > 0) full = take_first(full, config.train_limit);
  if (config.test_limit > 0) test = take_first(test, config.test_limit);
  if (static_cast<size_t>(config.validation_images) >= full.size())
    throw Error(
        fmt::format("config: validation_images = {} leaves no training images (the "
                    "training set has {})",
                    config.validation_images, full.size()));
  auto split = split_validation(full, config.validation_images, config.seed);
  d.train = std::move(split.train);
  d.validation = std::move(split.validation);
  d.test = std::move(test);
  return d;
}

TrainResult run_training(const TrainConfig& config, const RunOptions& options) {
  validate(config);
  const auto start = Clock::now();
  torch::set_num_threads(config.threads);
  const torch::Device device(config.device);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw Error("--device cuda: this LibTorch build has no usable CUDA device");
  std::ostream* out = options.progress;
  auto say = [&](const std::string& line) {
    if (out) *out << line << std::endl;
  };

  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec || !fs::is_directory(options.out_dir))
    throw Error(options.out_dir.string() + ": cannot create output directory");
  TrainResult result;
  result.model_path = options.out_dir / "model.json";
  result.baseline_path = options.out_dir / "baseline.json";
  result.checkpoint_path = options.out_dir / "checkpoint.pt";
  result.log_path = options.out_dir / "train_log.json";
  const std::string config_json = config_to_json(config);

  say(fmt::format("loading {} data", config.dataset));
  const auto data = load_training_data(config);
  const auto encoding = input_encoding(config, data.train.shape);
  const auto x_train = encode_images(data.train, encoding).to(device);
  const auto y_train = labels_tensor(data.train).to(device);
  const auto x_val = encode_images(data.validation, encoding).to(device);
  const auto y_val = labels_tensor(data.validation).to(device);
  say(fmt::format("{} training, {} validation, {} test images; {} input bits", data.train.size(),
                  data.validation.size(), data.test.size(), encoding.num_bits()));

  Network net(encoding.num_bits(), config.hidden, data.train.num_classes, config.levels,
              config.seed);
  net.to(device);
  SchedulePosition pos;
  Snapshot best;
  json log = json::array();
  std::optional<LoadedCheckpoint> resumed;
  if (options.resume && fs::exists(result.checkpoint_path)) {
    resumed.emplace(load_checkpoint(result.checkpoint_path, net));
    if (resumed->config_json != config_json)
      throw Error(result.checkpoint_path.string() +
                  ": was written by a different config; use another --out directory or the same "
                  "config");
    net.to(device);
    pos = resumed->position;
    best = resumed->best;
    log = json::parse(resumed->log_json);
    say(fmt::format("resuming at stage {} after epoch {}",
                    kStageNames[std::min<int64_t>(pos.stage, 3)], pos.epochs_done));
  } else {
    fs::remove(result.checkpoint_path, ec);
  }

  const auto lut_mask = lut_layer_mask(config);
  auto export_metadata = [&](const char* kind, double val) {
    return json{{"kind", kind}, {"config", json::parse(config_json)}, {"validation_accuracy", val}}
        .dump();
  };
  auto write_log = [&] { write_file_atomically(result.log_path, log.dump(1)); };

  int64_t epochs_this_run = 0;

  for (; pos.stage < 4; ++pos.stage, pos.epochs_done = 0, pos.step = 0, pos.entered = false) {
    const StageConfig& stage = stage_config(config, pos.stage);
    const char* stage_name = kStageNames[pos.stage];
    if (!pos.entered) {
      // Structural transition into this stage.
      if (pos.stage == 1) {
        net.freeze_level_ratios(config.level_ratio_bits);
        net.prune(keep_fractions(config));
      } else if (pos.stage == 2) {
        for (size_t i = 0; i < net.layers().size(); ++i)
          if (lut_mask[i]) net.expand_to_luts(i, config.k, config.pruning_recovery, config.seed);
      }
      pos.entered = true;
      pos.best_validation = -1;
      best.clear();
    }
    const Modes modes = stage_modes(pos.stage);
    torch::optim::Adam optimizer(net.parameters(pos.stage >= 2, pos.stage == 3),
                                 torch::optim::AdamOptions(stage.learning_rate));
    if (resumed && resumed->has_optimizer && resumed->position.stage == pos.stage &&
        pos.epochs_done > 0)
      optimizer.load(resumed->optimizer);
    resumed.reset();

    const int64_t batches_per_epoch = (x_train.size(0) + stage.batch_size - 1) / stage.batch_size;
    const int64_t stage_steps = std::max<int64_t>(1, stage.epochs * batches_per_epoch - 1);
    for (; pos.epochs_done < stage.epochs; ++pos.epochs_done) {
      const auto epoch_start = Clock::now();
      // The shuffle depends only on (seed, stage, epoch), so a resumed run sees the same batches.
      std::mt19937_64 rng(config.seed * 7919 + static_cast<uint64_t>(pos.stage) * 131 +
                          static_cast<uint64_t>(pos.epochs_done));
      const int64_t n = x_train.size(0);
      const auto perm = torch::tensor(seeded_permutation(n, rng), torch::kLong).to(device);
      torch::manual_seed(rng());  // dropout masks, also reproducible across --resume
      double loss_sum = 0;
      int64_t correct = 0, batches = 0;
      for (int64_t b0 = 0; b0 < n; b0 += stage.batch_size) {
        const auto idx = perm.slice(0, b0, std::min<int64_t>(b0 + stage.batch_size, n));
        const auto xb = random_shift(x_train.index_select(0, idx), data.train.shape,
                                     config.input_bits, config.augment_shift, rng);
        const auto yb = y_train.index_select(0, idx);
        const auto logits =
            net.forward(xb, true, modes.weights, modes.tables, nullptr, config.dropout);
        const auto loss = torch::nn::functional::cross_entropy(logits, yb);
        optimizer.zero_grad();
        loss.backward();
        const double progress = static_cast<double>(pos.step) / static_cast<double>(stage_steps);
        const double lr = stage.learning_rate /
                          (1.0 + stage.lr_decay * static_cast<double>(pos.step)) *
                          std::pow(stage.final_lr_ratio, progress);
        for (auto& group : optimizer.param_groups())
          static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
        optimizer.step();
        net.clip();
        ++pos.step;
        loss_sum += loss.item<double>();
        correct += logits.argmax(1).eq(yb).sum().item<int64_t>();
        ++batches;
      }
      const double train_seconds = seconds_since(epoch_start);
      const double val = accuracy(net, x_val, y_val, modes);
      const bool improved = val > pos.best_validation;
      if (improved) {
        pos.best_validation = val;
        best = take_snapshot(net);
      }
      const double epoch_seconds = seconds_since(epoch_start);
      int64_t epochs_left = stage.epochs - pos.epochs_done - 1;
      for (int64_t s = pos.stage + 1; s < 4; ++s) epochs_left += stage_config(config, s).epochs;
      const json record = {
          {"stage", stage_name},
          {"epoch", pos.epochs_done + 1},
          {"loss", loss_sum / static_cast<double>(std::max<int64_t>(1, batches))},
          {"train_accuracy", static_cast<double>(correct) / static_cast<double>(n)},
          {"validation_accuracy", val},
          {"images_per_second", static_cast<double>(n) / train_seconds},
          {"seconds", epoch_seconds}};
      log.push_back(record);
      say(fmt::format(
          "[{} {}/{}] loss {:.4f}  train {:.2f}%  val {:.2f}%{}  {:.0f} img/s  {:.1f} s"
          "  stage left {}  ({} epochs left in the run)",
          stage_name, pos.epochs_done + 1, stage.epochs, record["loss"].get<double>(),
          100 * record["train_accuracy"].get<double>(), 100 * val, improved ? "*" : " ",
          record["images_per_second"].get<double>(), epoch_seconds,
          format_duration(epoch_seconds * static_cast<double>(stage.epochs - pos.epochs_done - 1)),
          epochs_left));
      SchedulePosition saved = pos;
      ++saved.epochs_done;
      write_log();
      save_checkpoint(result.checkpoint_path, net, best, saved, &optimizer, config_json,
                      log.dump());
      if (options.stop_after_epochs >= 0 && ++epochs_this_run >= options.stop_after_epochs)
        return result;
    }
    // The stage ends with its best validation epoch.
    if (!best.empty()) restore_snapshot(net, best);
    if (pos.stage == 1) {
      pos.baseline_validation = std::max(0.0, pos.best_validation);
      result.baseline = export_model(net, encoding, "baseline",
                                     export_metadata("xnor_baseline", pos.baseline_validation));
      save_model(result.baseline, result.baseline_path);
      say(fmt::format("wrote {} (pruned binarized network, XNOR connections)",
                      result.baseline_path.string()));
    }
    SchedulePosition saved = pos;
    ++saved.stage;
    saved.epochs_done = 0;
    saved.step = 0;
    saved.entered = false;
    save_checkpoint(result.checkpoint_path, net, {}, saved, nullptr, config_json, log.dump());
  }
  result.finished = true;

  result.validation_accuracy = accuracy(net, x_val, y_val, stage_modes(3));
  result.baseline_validation_accuracy = pos.baseline_validation;
  result.model =
      export_model(net, encoding, "lutnet", export_metadata("lutnet", result.validation_accuracy));
  save_model(result.model, result.model_path);
  if (result.baseline.layers.empty()) result.baseline = load_model(result.baseline_path);

  // Test accuracy of the exported files (never used for any choice above).
  result.test_accuracy = reference_accuracy(result.model, data.test);
  result.baseline_test_accuracy = reference_accuracy(result.baseline, data.test);
  {
    torch::Tensor float_pred;
    const auto x_test = encode_images(data.test, encoding).to(device);
    accuracy(net, x_test, labels_tensor(data.test).to(device), stage_modes(3), &float_pred);
    const auto bits = (x_test > 0).to(torch::kUInt8).cpu();
    const auto hard = hard_forward(net, result.model, bits);
    result.hard_float_agreement =
        float_pred.cpu().eq(hard.labels).to(torch::kDouble).mean().item<double>();
  }
  result.seconds = seconds_since(start);
  const json summary = {{"model", result.model_path.string()},
                        {"baseline", result.baseline_path.string()},
                        {"validation_accuracy", result.validation_accuracy},
                        {"baseline_validation_accuracy", result.baseline_validation_accuracy},
                        {"test_accuracy", result.test_accuracy},
                        {"baseline_test_accuracy", result.baseline_test_accuracy},
                        {"float_integer_prediction_agreement", result.hard_float_agreement},
                        {"seconds", result.seconds}};
  write_file_atomically(options.out_dir / "summary.json", summary.dump(2));
  write_file_atomically(options.out_dir / "config.json", config_json);
  return result;
}

}  // namespace lutnet::train
