#include <malloc.h>

#include <fstream>
#include <sstream>

#include "cli/train_flags.hpp"
#include "core/error.hpp"
#include "core/read_file.hpp"

namespace lutnet::cli {

train::TrainConfig build_config(const TrainFlags& f) {
  train::TrainConfig c = train::preset(f.preset, f.dataset);
  if (!f.config_file.empty()) {
    c = train::config_from_json(read_text_file(f.config_file, "config file"), f.config_file, c);
  }
  if (!f.dataset.empty()) c.dataset = f.dataset;
  if (!f.data_dir.empty()) c.data_dir = f.data_dir;
  if (!f.device.empty()) c.device = f.device;
  if (!f.conv.empty())
    c.conv = f.conv == "none" ? std::vector<train::ConvSpec>{} : train::parse_conv_spec(f.conv);
  if (!f.hidden.empty()) c.hidden = f.hidden;
  if (!f.lut_layers.empty()) c.lut_layers = f.lut_layers;
  if (!f.keep.empty()) c.keep_fraction = f.keep;
  if (!f.epochs.empty()) {
    if (f.epochs.size() != 4)
      throw Error("--epochs needs four numbers: bnn,retrain,lut_real,lut_binary");
    c.bnn.epochs = f.epochs[0];
    c.retrain.epochs = f.epochs[1];
    c.lut_real.epochs = f.epochs[2];
    c.lut_binary.epochs = f.epochs[3];
  }
  if (f.k) c.k = f.k;
  if (f.levels) c.levels = f.levels;
  if (f.input_bits) c.input_bits = f.input_bits;
  if (f.validation >= 0) c.validation_images = f.validation;
  if (f.train_limit >= 0) c.train_limit = f.train_limit;
  if (f.test_limit >= 0) c.test_limit = f.test_limit;
  if (f.threads) c.threads = f.threads;
  if (f.seed >= 0) c.seed = static_cast<uint64_t>(f.seed);
  for (train::StageConfig* s : {&c.bnn, &c.retrain, &c.lut_real, &c.lut_binary}) {
    if (f.batch) s->batch_size = f.batch;
    if (f.lr > 0) s->learning_rate = f.lr;
    if (f.final_lr_ratio > 0) s->final_lr_ratio = f.final_lr_ratio;
  }
  if (f.dropout >= 0) c.dropout = f.dropout;
  if (f.augment_shift >= 0) c.augment_shift = f.augment_shift;
  if (f.recovery == "on") c.pruning_recovery = true;
  if (f.recovery == "off") c.pruning_recovery = false;
  if (!f.input_selection.empty()) c.input_selection = f.input_selection;
  if (f.flip == "on") c.augment_flip = true;
  if (f.flip == "off") c.augment_flip = false;
  if (!f.tiled.empty())
    c.tiles = f.tiled == "none" ? std::vector<train::TileSpec>{} : train::parse_tile_spec(f.tiled);
  if (!f.kn.empty()) {
    if (f.kn.size() != 2) throw Error("--kn needs two numbers: K,N (e.g. 5,1)");
    c.tiled_k = f.kn[0];
    c.tiled_n = f.kn[1];
  }
  train::validate(c);
  return c;
}

void tune_allocator_for_training() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum: blocks up to 32 MiB come from the heap
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
}

void add_training_options(CLI::App* cmd, const std::shared_ptr<TrainFlags>& flags) {
  cmd->add_option("--preset", flags->preset,
                  "demo (small MLP, learned inputs, keep 3%: flow's default), quick (short "
                  "stages: train's default), paper-mnist, tiny, cnv (CIFAR-10/SVHN), cnv-small "
                  "(MNIST/Fashion-MNIST conv net)")
      ->check(CLI::IsMember(train::preset_names()))
      ->capture_default_str();
  cmd->add_option("--config", flags->config_file,
                  "JSON config file applied on top of the preset (keys as in OUT/config.json)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", flags->out_dir, "Output directory")->capture_default_str();
  cmd->add_flag("--resume", flags->resume, "Continue from OUT/checkpoint.pt if it exists");
  cmd->add_option("--save-config", flags->save_config,
                  "Write the effective config to this file and exit");
  cmd->add_option("--dataset", flags->dataset,
                  "mnist | fashion-mnist | cifar10 | svhn | synthetic | synthetic-rgb");
  cmd->add_option("--conv", flags->conv,
                  "Conv layers before the dense ones, CHANNELS[kK][sS][pP] separated by commas "
                  "(kernel 3, stride 1, no pool by default), e.g. 16,32p2,64; 'none' for an MLP");
  cmd->add_option("--data-dir", flags->data_dir,
                  "Dataset directory (default $LUTNET_DATA_DIR or ./data)");
  cmd->add_option("--hidden", flags->hidden, "Hidden layer widths, e.g. 256,256,256,256")
      ->delimiter(',');
  cmd->add_option("--k", flags->k, "LUT inputs K (2..6)");
  cmd->add_option("--levels", flags->levels, "Residual activation levels L (1 or 2)");
  cmd->add_option("--input-bits", flags->input_bits, "Thermometer bits per pixel (1 = threshold)");
  cmd->add_option("--keep", flags->keep,
                  "Keep fraction: one value for all but the output layer, or one per layer")
      ->delimiter(',');
  cmd->add_option("--lut-layers", flags->lut_layers,
                  "Indices of layers that become LUT layers, conv layers first, the output layer "
                  "last (default: all but the output layer)")
      ->delimiter(',');
  cmd->add_option("--epochs", flags->epochs, "Epochs per stage: bnn,retrain,lut_real,lut_binary")
      ->delimiter(',');
  cmd->add_option("--batch", flags->batch, "Batch size of every stage");
  cmd->add_option("--lr", flags->lr, "Initial learning rate of every stage");
  cmd->add_option("--final-lr-ratio", flags->final_lr_ratio,
                  "Decay every stage's learning rate exponentially to this fraction (1 = off)");
  cmd->add_option("--pruning-recovery", flags->recovery,
                  "on|off: seed LUT tables with pruned "
                  "weights of their extra inputs")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--input-selection", flags->input_selection,
                  "random|learned: how the K-1 extra inputs of each unrolled LUT are chosen "
                  "(learned: a score per candidate, trained in the real-valued LUT stage)")
      ->check(CLI::IsMember({"random", "learned"}));
  cmd->add_option("--dropout", flags->dropout,
                  "Dropout on dense-layer inputs in the BNN and retrain stages");
  cmd->add_option("--augment-shift", flags->augment_shift,
                  "Shift training images randomly by up to N pixels (0 = off)");
  cmd->add_option("--augment-flip", flags->flip,
                  "on|off: random horizontal flips of training images (conv networks; the cnv "
                  "preset has them on for cifar10 only)")
      ->check(CLI::IsMember({"on", "off"}));
  cmd->add_option("--tiled", flags->tiled,
                  "Tiled layers (DESIGN.md §9): TMxTN for every layer but the output layer, or one "
                  "entry per layer with 0 for unrolled (e.g. 8x8,8x8,8x8,8x8,0); 'none' for none");
  cmd->add_option("--kn", flags->kn,
                  "K,N of tiled LUT layers: K LUT inputs, N of them weight bits (default 5,1)")
      ->delimiter(',');
  cmd->add_option("--validation", flags->validation, "Validation images held out of training");
  cmd->add_option("--train-limit", flags->train_limit, "Use only the first N training images");
  cmd->add_option("--test-limit", flags->test_limit, "Use only the first N test images");
  cmd->add_option("--seed", flags->seed, "Random seed");
  cmd->add_option("--device", flags->device, "cpu (default) or cuda where LibTorch has it");
  cmd->add_option(
      "--threads", flags->threads,
      "Intra-op threads (the LUT kernels split by level, then batch: 2 threads ~1.4x faster)");
}

}  // namespace lutnet::cli
