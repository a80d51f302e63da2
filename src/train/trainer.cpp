#include "train/trainer.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <utility>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/input_encoding.hpp"
#include "core/model_io.hpp"
#include "core/read_file.hpp"
#include "core/reference_evaluator.hpp"
#include "core/seconds_since.hpp"
#include "engine/engine.hpp"
#include "train/augmentation.hpp"
#include "train/checkpoint.hpp"
#include "train/export_model.hpp"
#include "train/fused_adam.hpp"
#include "train/network.hpp"
#include "train/network_setup.hpp"

namespace lutnet::train {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kStageNames[] = {"bnn", "retrain", "lut_real", "lut_binary"};

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

// Test accuracy of an exported file with the bit-sliced engine (held bit-exact to the reference
// evaluator by its own tests; the scalar reference takes minutes on a conv model's test set).
double exported_accuracy(const Model& model, const Dataset& data) {
  if (data.size() == 0) return 0;
  const auto compiled = engine::CompiledModel::compile(model);
  std::vector<int32_t> labels(data.size());
  compiled.run(data.pixels.data(), data.size(), labels.data(), nullptr);
  size_t correct = 0;
  for (size_t i = 0; i < data.size(); ++i) correct += labels[i] == data.labels[i];
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

namespace fs = std::filesystem;

// Everything one training run carries from stage to stage.
struct Run {
  Run(const TrainConfig& c, const RunOptions& o, Network n)
      : config(c), options(o), device(c.device), net(std::move(n)) {}
  const TrainConfig& config;
  const RunOptions& options;
  torch::Device device;
  std::string config_json;
  TrainingData data;
  InputEncoding encoding;
  torch::Tensor x_train, y_train, x_val, y_val;
  Network net;
  SchedulePosition pos;
  Snapshot best;
  json log = json::array();
  std::optional<LoadedCheckpoint> resumed;
  int64_t epochs_this_run = 0;
  TrainResult result;

  void say(const std::string& line) const {
    if (options.progress) *options.progress << line << std::endl;
  }
  std::string metadata(const char* kind, double validation) const {
    return json{
        {"kind", kind}, {"config", json::parse(config_json)}, {"validation_accuracy", validation}}
        .dump();
  }
};

TrainResult prepare_output(const RunOptions& options) {
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec || !fs::is_directory(options.out_dir))
    throw Error(options.out_dir.string() + ": cannot create output directory");
  TrainResult result;
  result.model_path = options.out_dir / "model.json";
  result.baseline_path = options.out_dir / "baseline.json";
  result.checkpoint_path = options.out_dir / "checkpoint.pt";
  result.log_path = options.out_dir / "train_log.json";
  return result;
}

void resume_or_start(Run& run) {
  std::error_code ec;
  const auto& path = run.result.checkpoint_path;
  if (run.options.resume && fs::exists(path)) {
    run.resumed.emplace(load_checkpoint(path, run.net));
    if (run.resumed->config_json != run.config_json)
      throw Error(path.string() +
                  ": was written by a different config; use another --out directory or the same "
                  "config");
    run.net.to(run.device);
    run.pos = run.resumed->position;
    run.best = run.resumed->best;
    run.log = json::parse(run.resumed->log_json);
    run.say(fmt::format("resuming at stage {} after epoch {}",
                        kStageNames[std::min<int64_t>(run.pos.stage, 3)], run.pos.epochs_done));
  } else {
    fs::remove(path, ec);
  }
}

// One pass over the training set; returns the training loss and accuracy of the epoch.
std::pair<double, double> train_epoch(Run& run, FusedAdam& optimizer, const StageConfig& stage,
                                      Modes modes, int64_t stage_steps) {
  const TrainConfig& config = run.config;
  SchedulePosition& pos = run.pos;
  // The shuffle depends only on (seed, stage, epoch), so a resumed run sees the same batches.
  std::mt19937_64 rng(config.seed * 7919 + static_cast<uint64_t>(pos.stage) * 131 +
                      static_cast<uint64_t>(pos.epochs_done));
  const int64_t n = run.x_train.size(0);
  const auto perm = torch::tensor(seeded_permutation(n, rng), torch::kLong).to(run.device);
  torch::manual_seed(rng());  // dropout masks, also reproducible across --resume
  double loss_sum = 0;
  int64_t correct = 0, batches = 0;
  for (int64_t b0 = 0; b0 < n; b0 += stage.batch_size) {
    const auto idx = perm.slice(0, b0, std::min<int64_t>(b0 + stage.batch_size, n));
    auto xb = random_shift(run.x_train.index_select(0, idx), run.data.train.shape,
                           config.input_bits, config.augment_shift, rng);
    if (config.augment_flip) xb = random_flip(xb, run.data.train.shape, config.input_bits, rng);
    const auto yb = run.y_train.index_select(0, idx);
    const auto logits =
        run.net.forward(xb, true, modes.weights, modes.tables, nullptr, config.dropout);
    const auto loss = torch::nn::functional::cross_entropy(logits, yb);
    optimizer.release_gradients();
    loss.backward();
    const double progress = static_cast<double>(pos.step) / static_cast<double>(stage_steps);
    const double lr = stage.learning_rate / (1.0 + stage.lr_decay * static_cast<double>(pos.step)) *
                      std::pow(stage.final_lr_ratio, progress);
    optimizer.set_learning_rate(lr);
    optimizer.step();
    run.net.clip();
    ++pos.step;
    loss_sum += loss.item<double>();
    correct += logits.argmax(1).eq(yb).sum().item<int64_t>();
    ++batches;
  }
  return {loss_sum / static_cast<double>(std::max<int64_t>(1, batches)),
          static_cast<double>(correct) / static_cast<double>(n)};
}

// Validation, best-epoch snapshot, log line and checkpoint after one epoch.
void finish_epoch(Run& run, FusedAdam& optimizer, const StageConfig& stage, Modes modes,
                  std::pair<double, double> train, Clock::time_point epoch_start) {
  SchedulePosition& pos = run.pos;
  const double train_seconds = seconds_since(epoch_start);
  const double val = accuracy(run.net, run.x_val, run.y_val, modes);
  const bool improved = val > pos.best_validation;
  if (improved) {
    pos.best_validation = val;
    run.best = take_snapshot(run.net);
  }
  const double epoch_seconds = seconds_since(epoch_start);
  int64_t epochs_left = stage.epochs - pos.epochs_done - 1;
  const int64_t stages = run.options.baseline_only ? 2 : 4;
  for (int64_t s = pos.stage + 1; s < stages; ++s)
    epochs_left += stage_config(run.config, s).epochs;
  const int64_t n = run.x_train.size(0);
  const json record = {{"stage", kStageNames[pos.stage]},
                       {"epoch", pos.epochs_done + 1},
                       {"loss", train.first},
                       {"train_accuracy", train.second},
                       {"validation_accuracy", val},
                       {"images_per_second", static_cast<double>(n) / train_seconds},
                       {"seconds", epoch_seconds}};
  run.log.push_back(record);
  run.say(fmt::format(
      "[{} {}/{}] loss {:.4f}  train {:.2f}%  val {:.2f}%{}  {:.0f} img/s  {:.1f} s"
      "  stage left {}  ({} epochs left in the run)",
      kStageNames[pos.stage], pos.epochs_done + 1, stage.epochs, train.first, 100 * train.second,
      100 * val, improved ? "*" : " ", record["images_per_second"].get<double>(), epoch_seconds,
      format_duration(epoch_seconds * static_cast<double>(stage.epochs - pos.epochs_done - 1)),
      epochs_left));
  SchedulePosition saved = pos;
  ++saved.epochs_done;
  write_file_atomically(run.result.log_path, run.log.dump(1));
  save_checkpoint(run.result.checkpoint_path, run.net, run.best, saved, &optimizer, run.config_json,
                  run.log.dump());
}

// The structural transition into a stage: freeze ratios and prune before the retrain, logic
// expansion before the LUT stages.
void enter_stage(Run& run) {
  const TrainConfig& config = run.config;
  if (run.pos.stage == 1) {
    run.net.freeze_level_ratios(config.level_ratio_bits);
    run.net.prune(keep_fractions(config));
  } else if (run.pos.stage == 2) {
    expand_lut_layers(run.net, config);
  } else if (run.pos.stage == 3) {
    run.net.fix_input_selection();  // the binary stage trains the tables on the learned inputs
  }
  run.pos.entered = true;
  run.pos.best_validation = -1;
  run.best.clear();
}

// Runs the rest of the current stage; false when stopped by RunOptions::stop_after_epochs.
bool run_stage(Run& run) {
  SchedulePosition& pos = run.pos;
  const StageConfig& stage = stage_config(run.config, pos.stage);
  if (!pos.entered) enter_stage(run);
  const Modes modes = stage_modes(pos.stage);
  FusedAdam optimizer(run.net.parameters(pos.stage >= 2, pos.stage == 3), stage.learning_rate);
  if (run.resumed && run.resumed->has_optimizer && run.resumed->position.stage == pos.stage &&
      pos.epochs_done > 0)
    optimizer.load(run.resumed->optimizer);
  run.resumed.reset();

  const int64_t batches_per_epoch = (run.x_train.size(0) + stage.batch_size - 1) / stage.batch_size;
  const int64_t stage_steps = std::max<int64_t>(1, stage.epochs * batches_per_epoch - 1);
  for (; pos.epochs_done < stage.epochs; ++pos.epochs_done) {
    const auto epoch_start = Clock::now();
    const auto train = train_epoch(run, optimizer, stage, modes, stage_steps);
    finish_epoch(run, optimizer, stage, modes, train, epoch_start);
    if (run.options.stop_after_epochs >= 0 &&
        ++run.epochs_this_run >= run.options.stop_after_epochs)
      return false;
  }
  // The stage ends with its best validation epoch.
  if (!run.best.empty()) restore_snapshot(run.net, run.best);
  if (pos.stage == 1) {
    pos.baseline_validation = std::max(0.0, pos.best_validation);
    run.result.baseline = export_model(run.net, run.encoding, "baseline",
                                       run.metadata("xnor_baseline", pos.baseline_validation));
    save_model(run.result.baseline, run.result.baseline_path);
    run.say(fmt::format("wrote {} (pruned binarized network, XNOR connections)",
                        run.result.baseline_path.string()));
  }
  SchedulePosition saved = pos;
  ++saved.stage;
  saved.epochs_done = 0;
  saved.step = 0;
  saved.entered = false;
  save_checkpoint(run.result.checkpoint_path, run.net, {}, saved, nullptr, run.config_json,
                  run.log.dump());
  return true;
}

// Labels of the exported integer network by the torch hard forward, in chunks of images (conv
// layers turn each image into one row per output pixel).
torch::Tensor hard_labels(const Network& net, const Model& model, const torch::Tensor& bits) {
  std::vector<torch::Tensor> parts;
  const int64_t chunk = net.layers()[0].is_conv ? 250 : bits.size(0);
  for (int64_t b = 0; b < bits.size(0); b += std::max<int64_t>(1, chunk))
    parts.push_back(hard_forward(net, model, bits.slice(0, b, b + chunk)).labels);
  return parts.empty() ? torch::zeros({0}, torch::kLong) : torch::cat(parts);
}

// Export, the test accuracies of the exported files (never used for any choice) and the summary.
void finish_run(Run& run, Clock::time_point start) {
  TrainResult& result = run.result;
  result.finished = true;
  result.validation_accuracy = accuracy(run.net, run.x_val, run.y_val, stage_modes(3));
  result.baseline_validation_accuracy = run.pos.baseline_validation;
  result.model = export_model(run.net, run.encoding, "lutnet",
                              run.metadata("lutnet", result.validation_accuracy));
  save_model(result.model, result.model_path);
  if (result.baseline.layers.empty()) result.baseline = load_model(result.baseline_path);
  const Dataset& test = run.data.test;
  result.test_accuracy = exported_accuracy(result.model, test);
  result.baseline_test_accuracy = exported_accuracy(result.baseline, test);
  {
    torch::Tensor float_pred;
    const auto x_test = encode_images(test, run.encoding).to(run.device);
    accuracy(run.net, x_test, labels_tensor(test).to(run.device), stage_modes(3), &float_pred);
    const auto bits = (x_test > 0).to(torch::kUInt8).cpu();
    const auto hard = hard_labels(run.net, result.model, bits);
    result.hard_float_agreement =
        float_pred.cpu().eq(hard).to(torch::kDouble).mean().item<double>();
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
  write_file_atomically(run.options.out_dir / "summary.json", summary.dump(2));
  write_file_atomically(run.options.out_dir / "config.json", run.config_json);
}

// The end of a RunOptions::baseline_only run: the baseline's test accuracy and the summary.
void finish_baseline_run(Run& run, Clock::time_point start) {
  TrainResult& result = run.result;
  result.finished = true;
  result.baseline_validation_accuracy = run.pos.baseline_validation;
  if (result.baseline.layers.empty()) result.baseline = load_model(result.baseline_path);
  result.baseline_test_accuracy = exported_accuracy(result.baseline, run.data.test);
  result.seconds = seconds_since(start);
  const json summary = {{"baseline", result.baseline_path.string()},
                        {"baseline_validation_accuracy", result.baseline_validation_accuracy},
                        {"baseline_test_accuracy", result.baseline_test_accuracy},
                        {"seconds", result.seconds}};
  write_file_atomically(run.options.out_dir / "summary.json", summary.dump(2));
  write_file_atomically(run.options.out_dir / "config.json", run.config_json);
}

}  // namespace

bool is_finished_run(const TrainConfig& config, const fs::path& dir) {
  std::error_code ec;
  const fs::path summary = dir / "summary.json", config_file = dir / "config.json";
  return fs::exists(summary, ec) && fs::exists(config_file, ec) &&
         read_text_file(config_file, "run config") == config_to_json(config);
}

TrainResult run_training(const TrainConfig& config, const RunOptions& options) {
  validate(config);
  const auto start = Clock::now();
  torch::set_num_threads(config.threads);
  const torch::Device device(config.device);
  if (device.is_cuda() && !torch::cuda::is_available())
    throw Error("--device cuda: this LibTorch build has no usable CUDA device");
  TrainResult prepared = prepare_output(options);
  if (options.progress)
    *options.progress << fmt::format("loading {} data", config.dataset) << std::endl;
  TrainingData data = load_training_data(config);
  const auto encoding = input_encoding(config, data.train.shape);
  Run run(config, options, make_network(config, encoding, data.train.num_classes));
  run.result = std::move(prepared);
  run.config_json = config_to_json(config);
  run.data = std::move(data);
  run.encoding = encoding;
  run.x_train = encode_images(run.data.train, encoding).to(device);
  run.y_train = labels_tensor(run.data.train).to(device);
  run.x_val = encode_images(run.data.validation, encoding).to(device);
  run.y_val = labels_tensor(run.data.validation).to(device);
  run.say(fmt::format("{} training, {} validation, {} test images; {} input bits",
                      run.data.train.size(), run.data.validation.size(), run.data.test.size(),
                      encoding.num_bits()));
  run.net.to(device);
  resume_or_start(run);
  const int64_t last_stage = options.baseline_only ? 1 : 3;
  for (; run.pos.stage <= last_stage; ++run.pos.stage) {
    if (!run_stage(run)) return run.result;
    run.pos.epochs_done = 0;
    run.pos.step = 0;
    run.pos.entered = false;
  }
  if (options.baseline_only)
    finish_baseline_run(run, start);
  else
    finish_run(run, start);
  return run.result;
}

}  // namespace lutnet::train
