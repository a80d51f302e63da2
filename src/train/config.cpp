#include "train/config.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace lutnet::train {

using nlohmann::json;

TrainConfig preset(const std::string& name) {
  TrainConfig c;
  if (name == "paper-mnist") {
    // Published schedule (50/10/10/50, Adam 0.01, decay 1e-6, batch 100). Our own additions: a
    // 2-bit thermometer input instead of the paper's fixed-point first layer; against overfitting
    // (the LUT stages reach 99% training accuracy at 97% validation) dropout in the dense stages,
    // random +-2 pixel shifts, and a 10x learning-rate decay over each stage.
    c.input_bits = 2;
    c.dropout = 0.2;
    c.augment_shift = 2;
    for (StageConfig* s : {&c.bnn, &c.retrain, &c.lut_real, &c.lut_binary}) s->final_lr_ratio = 0.1;
    return c;
  }
  if (name == "quick") {
    // Fits the demo budget on 2 cores: short stages, 2-bit thermometer input.
    c.input_bits = 2;
    c.bnn = {10, 0.01, 1e-6, 100};
    c.retrain = {3, 0.01, 1e-6, 100};
    c.lut_real = {2, 0.01, 1e-6, 100};
    c.lut_binary = {4, 0.01, 1e-6, 100};
    return c;
  }
  if (name == "tiny") {
    c.dataset = "synthetic";
    c.validation_images = 300;
    c.train_limit = 0;
    c.hidden = {48, 32};
    c.keep_fraction = {0.3};
    c.bnn = {4, 0.01, 1e-6, 50};
    c.retrain = {2, 0.01, 1e-6, 50};
    c.lut_real = {2, 0.01, 1e-6, 50};
    c.lut_binary = {2, 0.01, 1e-6, 50};
    return c;
  }
  throw Error(fmt::format("unknown preset '{}' (known: paper-mnist, quick, tiny)", name));
}

std::vector<std::string> preset_names() { return {"paper-mnist", "quick", "tiny"}; }

namespace {

json stage_to_json(const StageConfig& s) {
  return {{"epochs", s.epochs},
          {"learning_rate", s.learning_rate},
          {"lr_decay", s.lr_decay},
          {"batch_size", s.batch_size},
          {"final_lr_ratio", s.final_lr_ratio}};
}

template <typename T>
void read(const json& j, const char* key, T& out, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) return;
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    throw Error(fmt::format("{}: '{}' has the wrong type", where, key));
  }
}

void check_keys(const json& j, std::initializer_list<const char*> known, const std::string& where) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == k;
    if (!ok) throw Error(fmt::format("{}: unknown key '{}'", where, it.key()));
  }
}

void stage_from_json(const json& j, StageConfig& s, const std::string& where) {
  if (!j.is_object()) throw Error(fmt::format("{}: expected an object", where));
  check_keys(j, {"epochs", "learning_rate", "lr_decay", "batch_size", "final_lr_ratio"}, where);
  read(j, "epochs", s.epochs, where);
  read(j, "learning_rate", s.learning_rate, where);
  read(j, "lr_decay", s.lr_decay, where);
  read(j, "batch_size", s.batch_size, where);
  read(j, "final_lr_ratio", s.final_lr_ratio, where);
}

}  // namespace

std::string config_to_json(const TrainConfig& c) {
  json j = {{"dataset", c.dataset},
            {"validation_images", c.validation_images},
            {"train_limit", c.train_limit},
            {"test_limit", c.test_limit},
            {"input_bits", c.input_bits},
            {"hidden", c.hidden},
            {"levels", c.levels},
            {"level_ratio_bits", c.level_ratio_bits},
            {"k", c.k},
            {"lut_layers", c.lut_layers},
            {"keep_fraction", c.keep_fraction},
            {"pruning_recovery", c.pruning_recovery},
            {"dropout", c.dropout},
            {"augment_shift", c.augment_shift},
            {"bnn", stage_to_json(c.bnn)},
            {"retrain", stage_to_json(c.retrain)},
            {"lut_real", stage_to_json(c.lut_real)},
            {"lut_binary", stage_to_json(c.lut_binary)},
            {"seed", c.seed},
            {"device", c.device},
            {"threads", c.threads}};
  // data_dir is where the data lives on this machine, not part of what the run means.
  return j.dump(2);
}

TrainConfig config_from_json(const std::string& text, const std::string& source, TrainConfig c) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(fmt::format("{}: not valid JSON (byte {})", source, e.byte));
  }
  if (!j.is_object()) throw Error(fmt::format("{}: expected a JSON object", source));
  check_keys(j,
             {"dataset", "data_dir", "validation_images", "train_limit", "test_limit",
              "input_bits", "hidden", "levels", "level_ratio_bits", "k", "lut_layers",
              "keep_fraction", "pruning_recovery", "dropout", "augment_shift", "bnn", "retrain", "lut_real", "lut_binary",
              "seed", "device", "threads"},
             source);
  read(j, "dataset", c.dataset, source);
  read(j, "data_dir", c.data_dir, source);
  read(j, "validation_images", c.validation_images, source);
  read(j, "train_limit", c.train_limit, source);
  read(j, "test_limit", c.test_limit, source);
  read(j, "input_bits", c.input_bits, source);
  read(j, "hidden", c.hidden, source);
  read(j, "levels", c.levels, source);
  read(j, "level_ratio_bits", c.level_ratio_bits, source);
  read(j, "k", c.k, source);
  read(j, "lut_layers", c.lut_layers, source);
  read(j, "keep_fraction", c.keep_fraction, source);
  read(j, "pruning_recovery", c.pruning_recovery, source);
  read(j, "dropout", c.dropout, source);
  read(j, "augment_shift", c.augment_shift, source);
  if (j.contains("bnn")) stage_from_json(j["bnn"], c.bnn, source + ": bnn");
  if (j.contains("retrain")) stage_from_json(j["retrain"], c.retrain, source + ": retrain");
  if (j.contains("lut_real")) stage_from_json(j["lut_real"], c.lut_real, source + ": lut_real");
  if (j.contains("lut_binary"))
    stage_from_json(j["lut_binary"], c.lut_binary, source + ": lut_binary");
  read(j, "seed", c.seed, source);
  read(j, "device", c.device, source);
  read(j, "threads", c.threads, source);
  return c;
}

void validate(const TrainConfig& c) {
  auto fail = [](const std::string& what) { throw Error("config: " + what); };
  if (c.k < 2 || c.k > 6) fail(fmt::format("k = {} is out of range 2..6", c.k));
  if (c.levels < 1 || c.levels > 2) fail(fmt::format("levels = {} is out of range 1..2", c.levels));
  if (c.level_ratio_bits < 0 || c.level_ratio_bits > 8)
    fail(fmt::format("level_ratio_bits = {} is out of range 0..8", c.level_ratio_bits));
  if (c.input_bits < 1 || c.input_bits > 8)
    fail(fmt::format("input_bits = {} is out of range 1..8", c.input_bits));
  if (c.hidden.empty()) fail("hidden needs at least one layer width");
  for (int w : c.hidden)
    if (w < 1) fail(fmt::format("hidden layer width {} must be positive", w));
  const int layers = static_cast<int>(c.hidden.size()) + 1;
  for (int l : c.lut_layers)
    if (l < 0 || l >= layers)
      fail(fmt::format("lut_layers entry {} is out of range 0..{}", l, layers - 1));
  if (c.keep_fraction.size() != 1 && c.keep_fraction.size() != static_cast<size_t>(layers))
    fail(fmt::format("keep_fraction needs 1 or {} entries, has {}", layers,
                     c.keep_fraction.size()));
  for (double f : c.keep_fraction)
    if (!(f > 0 && f <= 1)) fail(fmt::format("keep_fraction {} is out of range (0, 1]", f));
  for (const StageConfig* s : {&c.bnn, &c.retrain, &c.lut_real, &c.lut_binary}) {
    if (s->epochs < 0) fail("stage epochs must be >= 0");
    if (s->batch_size < 1) fail("batch_size must be >= 1");
    if (!(s->learning_rate > 0)) fail("learning_rate must be > 0");
    if (!(s->final_lr_ratio > 0 && s->final_lr_ratio <= 1)) fail("final_lr_ratio must be in (0, 1]");
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) fail("dropout must be in [0, 1)");
  if (c.augment_shift < 0 || c.augment_shift > 8) fail("augment_shift must be in 0..8");
  if (c.validation_images < 1) fail("validation_images must be >= 1");
  if (c.threads < 1) fail("threads must be >= 1");
}

std::vector<bool> lut_layer_mask(const TrainConfig& c) {
  const size_t layers = c.hidden.size() + 1;
  std::vector<bool> mask(layers, false);
  if (c.lut_layers.empty()) {
    for (size_t i = 0; i + 1 < layers; ++i) mask[i] = true;
  } else {
    for (int l : c.lut_layers) mask[l] = true;
  }
  return mask;
}

std::vector<double> keep_fractions(const TrainConfig& c) {
  const size_t layers = c.hidden.size() + 1;
  if (c.keep_fraction.size() == layers) return c.keep_fraction;
  std::vector<double> f(layers, c.keep_fraction.at(0));
  f.back() = 1.0;
  return f;
}

}  // namespace lutnet::train
