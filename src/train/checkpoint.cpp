#include "train/checkpoint.hpp"

#include <filesystem>

#include "core/error.hpp"

namespace lutnet::train {

Snapshot take_snapshot(Network& network) {
  torch::NoGradGuard no_grad;
  Snapshot snapshot;
  for (auto& [name, tensor] : network.named_tensors()) snapshot[name] = tensor->detach().clone();
  return snapshot;
}

void restore_snapshot(Network& network, const Snapshot& snapshot) {
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : network.named_tensors()) {
    auto it = snapshot.find(name);
    if (it != snapshot.end()) tensor->copy_(it->second);
  }
}

void save_checkpoint(const std::filesystem::path& path, Network& network, const Snapshot& best,
                     const SchedulePosition& p, torch::optim::Optimizer* optimizer,
                     const std::string& config_json, const std::string& log_json) {
  torch::serialize::OutputArchive archive;
  for (auto& [name, tensor] : network.named_tensors())
    archive.write("net." + name, tensor->detach().cpu());
  for (const auto& [name, tensor] : best) archive.write("best." + name, tensor.cpu());
  archive.write("position",
                torch::tensor({p.stage, p.epochs_done, p.step, static_cast<int64_t>(p.entered)}));
  archive.write("validation",
                torch::tensor({p.best_validation, p.baseline_validation}, torch::kDouble));
  archive.write("config", c10::IValue(config_json));
  archive.write("log", c10::IValue(log_json));
  if (optimizer) {
    torch::serialize::OutputArchive opt;
    optimizer->save(opt);
    archive.write("optimizer", opt);
  }
  const auto tmp = path.string() + ".tmp";
  try {
    archive.save_to(tmp);
  } catch (const c10::Error& e) {
    throw Error(path.string() + ": cannot write checkpoint");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(path.string() + ": cannot move checkpoint into place (" + ec.message() + ")");
}

namespace {

bool read_tensor(torch::serialize::InputArchive& archive, const std::string& key,
                 torch::Tensor& out) {
  torch::Tensor t;
  if (!archive.try_read(key, t)) return false;
  out = t;
  return true;
}

}  // namespace

LoadedCheckpoint load_checkpoint(const std::filesystem::path& path, Network& network) {
  LoadedCheckpoint loaded;
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string());
  } catch (const c10::Error&) {
    throw Error(path.string() + ": not a readable lutnet checkpoint");
  }
  torch::NoGradGuard no_grad;
  auto& layers = network.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    Layer& l = layers[i];
    const std::string p = "net.layer" + std::to_string(i) + ".";
    auto must = [&](const char* name, torch::Tensor& t) {
      if (!read_tensor(archive, p + name, t))
        throw Error(path.string() + ": checkpoint lacks tensor " + p + name);
    };
    must("weight", l.weight);
    must("mask", l.mask);
    must("gamma", l.gamma);
    if (!l.is_output) {
      must("bn_weight", l.bn_weight);
      must("bn_bias", l.bn_bias);
      must("running_mean", l.running_mean);
      must("running_var", l.running_var);
      must("level_magnitudes", l.level_magnitudes);
      read_tensor(archive, p + "level_ratios", l.level_ratios);
    }
    if (read_tensor(archive, p + "tables", l.tables)) {
      must("conn_input", l.wiring.conn_input);
      must("conn_output", l.wiring.conn_output);
      must("perms", l.wiring.perms);
      read_tensor(archive, p + "selection_scores", l.selection_scores);
      l.wiring.num_outputs = l.num_outputs;
      l.is_lut = true;
      if (l.tiled()) {
        must("tile_position", l.tile_position);
        must("bit_weights", l.bit_weights);
      }
    }
    if (l.weight.sizes() != torch::IntArrayRef{l.num_outputs, l.num_inputs})
      throw Error(path.string() + ": checkpoint layer " + std::to_string(i) +
                  " has a different shape than the configured network");
    for (torch::Tensor* t : {&l.weight, &l.gamma, &l.bn_weight, &l.bn_bias, &l.level_magnitudes,
                             &l.tables, &l.bit_weights, &l.selection_scores})
      if (t->defined()) *t = t->detach().requires_grad_(true);
  }
  for (auto& [name, tensor] : network.named_tensors()) {
    torch::Tensor t;
    if (archive.try_read("best." + name, t)) loaded.best[name] = t;
  }
  torch::Tensor position, validation;
  read_tensor(archive, "position", position);
  read_tensor(archive, "validation", validation);
  loaded.position.stage = position[0].item<int64_t>();
  loaded.position.epochs_done = position[1].item<int64_t>();
  loaded.position.step = position[2].item<int64_t>();
  loaded.position.entered = position[3].item<int64_t>() != 0;
  loaded.position.best_validation = validation[0].item<double>();
  loaded.position.baseline_validation = validation[1].item<double>();
  c10::IValue config, log;
  archive.read("config", config);
  archive.read("log", log);
  loaded.config_json = config.toStringRef();
  loaded.log_json = log.toStringRef();
  loaded.has_optimizer = archive.try_read("optimizer", loaded.optimizer);
  return loaded;
}

}  // namespace lutnet::train
