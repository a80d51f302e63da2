// The generated circuit computes what the reference evaluator computes: every module's netlist
// is evaluated in C++ on random models and images, layer by layer. Plus golden Verilog for a tiny
// model, determinism and option errors. The Verilator tests (tests/flows) check the printed RTL.
#include "hdl/verilog_writer.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.hpp"
#include "core/input_encoding.hpp"
#include "core/random_model.hpp"
#include "core/reference_evaluator.hpp"
#include "core/tiling.hpp"

namespace lutnet::hdl {
namespace {

using ::testing::HasSubstr;

// Lane-packs bit j of 64 images (image n -> lane n) from per-image 0/1 byte vectors.
std::vector<uint64_t> pack(const std::vector<std::vector<uint8_t>>& images, size_t width) {
  std::vector<uint64_t> out(width, 0);
  for (size_t n = 0; n < images.size(); ++n)
    for (size_t j = 0; j < width; ++j) out[j] |= static_cast<uint64_t>(images[n][j] & 1) << n;
  return out;
}

// A tiled layer's array netlist, walked over the tile pairs as the sequencer walks them (registers
// transparent): per input tile the tile's inputs and its weight word (the layout docs/hardware.md
// states, rebuilt here from the model), the accumulators fed back; after a tile row's last input
// tile, one more step with `done` writes its outputs. The accumulators equal the reference's
// after every row, the output register its outputs (scores) at the end.
void check_tiled_layer(const Layer& layer, const LayerHardware& hw, const Netlist& nl,
                       const std::vector<std::vector<uint8_t>>& layer_in,
                       const std::vector<LayerTrace>& traces, int score_width) {
  const Tiling& t = layer.tiling;
  const int po_count = t.tile_outputs(), pi_count = t.tile_inputs();
  const int levels = layer.input_levels, aw = hw.accumulator_bits;
  ASSERT_TRUE(hw.tiled);
  ASSERT_EQ(nl.ports().size(), 9u);  // x, w, first, done, to, acc_q -> acc, out, write
  std::vector<int> kept;
  for (size_t q = 0; q < t.mask.size(); ++q)
    if (t.mask[q]) kept.push_back(static_cast<int>(q));
  ASSERT_EQ(hw.weight_word_bits, static_cast<int>(kept.size()) * t.n);
  const int tow = static_cast<int>(nl.ports()[4].width);
  std::vector<uint64_t> acc(static_cast<size_t>(po_count * aw), 0);
  std::vector<uint64_t> y(static_cast<size_t>(hw.output_width), 0);
  const auto all = [](bool v) { return v ? ~uint64_t{0} : uint64_t{0}; };
  for (int to = 0; to < t.tm; ++to) {
    std::vector<uint64_t> to_bits;
    for (int b = 0; b < tow; ++b) to_bits.push_back(all((to >> b) & 1));
    for (int ti = 0; ti <= t.tn; ++ti) {
      const bool done = ti == t.tn;  // the clock after the row's last input tile
      std::vector<uint64_t> x(static_cast<size_t>(levels * pi_count), 0);
      std::vector<uint64_t> w(static_cast<size_t>(std::max(1, hw.weight_word_bits)), 0);
      if (!done) {
        for (size_t n = 0; n < layer_in.size(); ++n)
          for (int l = 0; l < levels; ++l)
            for (int pi = 0; pi < pi_count; ++pi)
              x[l * pi_count + pi] |=
                  static_cast<uint64_t>(layer_in[n][l * layer.num_inputs + ti * pi_count + pi] & 1)
                  << n;
        for (size_t q = 0; q < kept.size(); ++q) {
          const int po = kept[q] / pi_count, pi = kept[q] % pi_count;
          const uint8_t bits =
              t.weight_bits[static_cast<size_t>(to * po_count + po) * layer.num_inputs +
                            ti * pi_count + pi];
          for (int b = 0; b < t.n; ++b) w[q * t.n + b] = all((bits >> b) & 1);
        }
      }
      const auto out = nl.evaluate({x, w, {all(ti == 0)}, {all(done)}, to_bits, acc, {}, {}, {}});
      ASSERT_EQ(out[8].size(), static_cast<size_t>(t.tm));
      for (int tile = 0; tile < t.tm; ++tile) ASSERT_EQ(out[8][tile], all(done && tile == to));
      if (done) {  // the sequencer registers the bits of tile `to`
        // out: tile to's outputs (threshold units, scores) or every output's tree (as y).
        const bool argmax = layer.output == LayerOutput::kArgmax;
        const bool tile_only = out[7].size() * t.tm == static_cast<size_t>(hw.output_width);
        ASSERT_TRUE(tile_only || out[7].size() == static_cast<size_t>(hw.output_width));
        for (int po = 0; po < po_count; ++po)
          for (int b = 0; b < (argmax ? aw : layer.output_levels); ++b) {
            const int o = to * po_count + po;
            const size_t bit = argmax ? static_cast<size_t>(o * aw + b)
                                      : static_cast<size_t>(b) * layer.num_outputs + o;
            y[bit] = !tile_only ? out[7][bit]
                     : argmax   ? out[7][static_cast<size_t>(po * aw + b)]
                                : out[7][static_cast<size_t>(b) * po_count + po];
          }
      } else {
        acc = out[6];
      }
    }
    for (size_t n = 0; n < layer_in.size(); ++n)
      for (int po = 0; po < po_count; ++po) {
        int64_t value = 0;
        for (int b = 0; b < aw; ++b)
          value |= static_cast<int64_t>((acc[po * aw + b] >> n) & 1) << b;
        ASSERT_EQ(value, traces[n].accumulators[to * po_count + po])
            << "image " << n << " output " << to * po_count + po;
      }
  }
  for (size_t n = 0; n < layer_in.size(); ++n) {
    const LayerTrace& tr = traces[n];
    if (layer.output == LayerOutput::kArgmax) {
      ASSERT_EQ(aw, score_width);
      for (int o = 0; o < layer.num_outputs; ++o) {
        int64_t value = 0;
        for (int b = 0; b < aw; ++b) value |= static_cast<int64_t>((y[o * aw + b] >> n) & 1) << b;
        ASSERT_EQ(value, tr.accumulators[o]) << "image " << n << " score " << o;
      }
      continue;
    }
    // A bit nobody reads is 0 or (shared with a live output tile) the reference's.
    for (size_t j = 0; j < tr.output_bits.size(); ++j) {
      if (hw.live[j] || ((y[j] >> n) & 1)) {
        ASSERT_EQ((y[j] >> n) & 1, tr.output_bits[j]) << "image " << n << " bit " << j;
      }
    }
  }
}

void check_against_reference(const Model& model, const HdlOptions& options, uint64_t seed) {
  std::vector<Netlist> netlists;
  const HdlDesign d = generate_verilog(model, options, &netlists);
  ASSERT_EQ(netlists.size(), model.layers.size() + 1);
  const int images = 64;
  const std::vector<uint8_t> pixels = make_random_pixels(model, images, seed);
  const size_t num_pixels = static_cast<size_t>(model.input.num_pixels());
  std::vector<std::vector<LayerTrace>> traces(images);
  std::vector<std::vector<uint8_t>> stage_in(images), pixel_bits(images);
  for (int n = 0; n < images; ++n) {
    const uint8_t* image = &pixels[n * num_pixels];
    evaluate_reference(model, image, &traces[n]);
    stage_in[n].resize(static_cast<size_t>(model.input.num_bits()));
    encode_input(model.input, image, stage_in[n].data());
    for (size_t p = 0; p < num_pixels; ++p)
      for (int b = 0; b < 8; ++b) pixel_bits[n].push_back((image[p] >> b) & 1);
  }
  // Input stage: live bits equal the reference encoding.
  {
    const auto out =
        netlists[0].evaluate({options.input_encoder ? pack(pixel_bits, 8 * num_pixels)
                                                    : pack(stage_in, stage_in[0].size()),
                              {}});
    const auto expected = pack(stage_in, stage_in[0].size());
    for (size_t j = 0; j < expected.size(); ++j)
      ASSERT_EQ(out[1][j], d.input_live[j] ? expected[j] : 0) << "input bit " << j;
  }
  for (size_t i = 0; i < model.layers.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "layer " << i);
    const auto& layer = model.layers[i];
    const auto& hw = d.layers[i];
    std::vector<std::vector<uint8_t>> layer_in(images);
    for (int n = 0; n < images; ++n)
      layer_in[n] = i == 0 ? stage_in[n] : traces[n][i - 1].output_bits;
    if (layer.tiling.enabled()) {
      std::vector<LayerTrace> layer_traces;
      for (int n = 0; n < images; ++n) layer_traces.push_back(traces[n][i]);
      check_tiled_layer(layer, hw, netlists[i + 1], layer_in, layer_traces, d.score_width);
      if (testing::Test::HasFatalFailure()) return;
      continue;
    }
    const auto out = netlists[i + 1].evaluate(
        {pack(layer_in, static_cast<size_t>(layer.num_inputs) * layer.input_levels), {}});
    const auto& y = out[1];
    ASSERT_EQ(static_cast<int>(y.size()), hw.output_width);
    for (int n = 0; n < images; ++n) {
      const LayerTrace& t = traces[n][i];
      if (layer.output == LayerOutput::kArgmax) {
        for (int o = 0; o < layer.num_outputs; ++o) {
          int64_t acc = 0;
          for (int b = 0; b < d.score_width; ++b)
            acc |= static_cast<int64_t>((y[o * d.score_width + b] >> n) & 1) << b;
          ASSERT_EQ(acc, t.accumulators[o]) << "image " << n << " output " << o;
        }
      } else {
        for (size_t j = 0; j < t.output_bits.size(); ++j) {
          const bool got = (y[j] >> n) & 1;
          if (hw.live[j]) {
            ASSERT_EQ(got, t.output_bits[j] != 0) << "image " << n << " bit " << j;
          } else {
            ASSERT_FALSE(got);
          }
        }
      }
    }
  }
}

RandomModelSpec spec_for(uint64_t seed) {
  std::mt19937_64 rng(seed);
  RandomModelSpec spec;
  spec.input_shape = {1, 2 + static_cast<int>(rng() % 4), 2 + static_cast<int>(rng() % 4)};
  spec.input_bits_per_pixel = 1 + static_cast<int>(rng() % 3);
  spec.hidden.clear();
  for (int l = static_cast<int>(rng() % 3); l >= 0; --l)
    spec.hidden.push_back(2 + static_cast<int>(rng() % 14));
  spec.num_classes = 2 + static_cast<int>(rng() % 9);
  spec.k = 1 + static_cast<int>(rng() % 6);
  spec.levels = 1 + static_cast<int>(rng() % 3);
  spec.keep_fraction = 0.05 + 0.9 * static_cast<double>(rng() % 100) / 100.0;
  spec.seed = seed;
  return spec;
}

TEST(VerilogWriter, NetlistsEqualReferenceOnRandomModels) {
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    const Model model = make_random_model(spec_for(seed));
    HdlOptions options;
    options.input_encoder = seed % 2 == 0;
    options.adder_pipeline_stages = static_cast<int>(seed % 4);
    options.xilinx_primitives = seed % 5 == 0;
    check_against_reference(model, options, seed);
    options.popcount = seed % 3 ? PopcountStyle::kFlatSum : PopcountStyle::kCompressorGates;
    check_against_reference(model, options, seed + 1000);
  }
}

TEST(VerilogWriter, WideLayersWithManyLevels) {
  RandomModelSpec spec;
  spec.input_shape = {1, 8, 8};
  spec.input_bits_per_pixel = 2;
  spec.hidden = {40, 30};
  spec.num_classes = 10;
  spec.k = 6;
  spec.levels = 3;
  spec.keep_fraction = 0.6;
  const Model model = make_random_model(spec);
  check_against_reference(model, {}, 7);
  HdlOptions deep;
  deep.adder_pipeline_stages = 3;
  check_against_reference(model, deep, 8);
}

TEST(VerilogWriter, LevelWeightsThatAreNotPowersOfTwo) {
  // Trained models have weights like {2, 3} or {4, 3}; 3 * pc takes the counted-first path.
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    RandomModelSpec spec = spec_for(seed);
    spec.levels = 2 + static_cast<int>(seed % 2);
    spec.keep_fraction = 0.9;
    Model model = make_random_model(spec);
    std::mt19937_64 rng(seed);
    for (auto& layer : model.layers)
      for (auto& w : layer.level_weights) w = 1 + static_cast<int64_t>(rng() % 7);
    HdlOptions options;
    options.adder_pipeline_stages = static_cast<int>(seed % 3);
    options.popcount =
        seed % 4 == 0 ? PopcountStyle::kCompressorGates : PopcountStyle::kCompressorTree;
    check_against_reference(model, options, seed);
  }
}

TEST(VerilogWriter, LatencyCountsEveryRegisterStage) {
  const Model model = make_random_model(spec_for(5));
  const HdlDesign plain = generate_verilog(model, {});
  EXPECT_EQ(plain.latency_cycles, static_cast<int>(model.layers.size()) + 2);
  EXPECT_THAT(plain.verilog, HasSubstr(fmt::format("by {} clock", plain.latency_cycles)));
  HdlOptions deep;
  deep.adder_pipeline_stages = 1;
  const HdlDesign piped = generate_verilog(model, deep);
  int extra = 0;
  for (const auto& hw : piped.layers) extra += hw.latency_cycles - 1;
  EXPECT_GT(extra, 0);
  EXPECT_EQ(piped.latency_cycles, plain.latency_cycles + extra);
  EXPECT_EQ(piped.layers.back().register_depth, piped.latency_cycles - 1);
}

TEST(VerilogWriter, SameModelSameBytes) {
  const Model model = make_random_model(spec_for(9));
  HdlOptions options;
  options.input_encoder = true;
  EXPECT_EQ(generate_verilog(model, options).verilog, generate_verilog(model, options).verilog);
}

TEST(VerilogWriter, XnorBaselineHasNoLuts) {
  RandomModelSpec spec = spec_for(11);
  spec.k = 1;
  const HdlDesign d = generate_verilog(make_random_model(spec), {});
  for (const auto& hw : d.layers) {
    EXPECT_EQ(hw.learned_luts, 0);
    EXPECT_GT(hw.free_connections, 0);
  }
  EXPECT_THAT(d.verilog, ::testing::Not(HasSubstr("lut1(")));
}

TEST(VerilogWriter, XilinxPrimitivesComeWithSimulationModels) {
  HdlOptions options;
  options.xilinx_primitives = true;
  const HdlDesign d = generate_verilog(make_random_model(spec_for(12)), options);
  EXPECT_THAT(d.verilog, HasSubstr("LUT4 #(.INIT(16'h"));
  EXPECT_THAT(d.simulation_models, HasSubstr("module LUT6 #(parameter [63:0] INIT"));
  EXPECT_TRUE(generate_verilog(make_random_model(spec_for(12)), {}).simulation_models.empty());
}

TEST(VerilogWriter, RejectsBadOptions) {
  const Model model = make_random_model(spec_for(3));
  HdlOptions bad_name;
  bad_name.top_name = "1top";
  try {
    generate_verilog(model, bad_name);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("'1top'"));
  }
  HdlOptions bad_pipeline;
  bad_pipeline.adder_pipeline_stages = -1;
  EXPECT_THROW(generate_verilog(model, bad_pipeline), Error);
}

// A model small enough to read: 3x3 pixels, 2-bit thermometer code, 4 hidden neurons with 2
// levels, K = 3, 3 classes.
Model golden_model() {
  RandomModelSpec spec;
  spec.input_shape = {1, 3, 3};
  spec.input_bits_per_pixel = 2;
  spec.hidden = {4};
  spec.num_classes = 3;
  spec.k = 3;
  spec.levels = 2;
  spec.keep_fraction = 0.4;
  spec.seed = 42;
  Model model = make_random_model(spec);
  model.name = "golden-tiny";
  return model;
}

void check_golden(const std::string& file, const std::string& text) {
  const std::string path = std::string(LUTNET_HDL_GOLDEN_DIR) + "/" + file;
  if (std::getenv("LUTNET_UPDATE_GOLDEN")) {
    std::ofstream(path, std::ios::binary) << text;
    GTEST_SKIP() << "rewrote " << path;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing; run with LUTNET_UPDATE_GOLDEN=1 to create it";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(text, expected.str()) << "generated Verilog differs from " << path
                                  << " (LUTNET_UPDATE_GOLDEN=1 rewrites it after review)";
}

TEST(VerilogWriter, GoldenTinyModel) {
  check_golden("tiny_model.v", generate_verilog(golden_model(), {}).verilog);
}

TEST(VerilogWriter, GoldenTinyModelXilinxEncoderPipelined) {
  HdlOptions options;
  options.xilinx_primitives = true;
  options.input_encoder = true;
  options.adder_pipeline_stages = 1;
  check_golden("tiny_model_xilinx_encoder_pipelined.v",
               generate_verilog(golden_model(), options).verilog);
}

// A conv model small enough to read: 4x4 pixels, a 2x2 conv of 2 channels with 2 levels and
// K = 2, a 2x2 / 1 max-pool, 2 classes.
Model golden_conv_model() {
  RandomModelSpec spec;
  spec.input_shape = {1, 4, 4};
  spec.convs = {{2, 2, 2, 1, 2, 1}};
  spec.hidden = {};
  spec.num_classes = 2;
  spec.k = 2;
  spec.levels = 2;
  spec.keep_fraction = 0.5;
  spec.seed = 43;
  Model model = make_random_model(spec);
  model.name = "golden-tiny-conv";
  return model;
}

TEST(VerilogWriter, GoldenTinyConvModel) {
  check_golden("tiny_conv_model.v", generate_verilog(golden_conv_model(), {}).verilog);
}

TEST(VerilogWriter, ConvModelsStreamOnePixelPerClock) {
  const HdlDesign d = generate_verilog(golden_conv_model(), {});
  EXPECT_TRUE(d.streaming);
  EXPECT_EQ(d.frame_pixels, 16);
  EXPECT_EQ(d.input_width, 1);  // one pixel, one threshold
  // Pixel 0 enters on cycle 0, the last needed one (row 3, column 3) on cycle 15; then the input
  // register, the conv stage, the pool, the collector, the argmax layer and out_valid.
  EXPECT_GT(d.latency_cycles, 15 + 5);
  ASSERT_EQ(d.layers.size(), 3u);
  EXPECT_EQ(d.layers[0].pixels, 9);        // 3x3 conv outputs
  EXPECT_EQ(d.layers[0].output_width, 4);  // 2 channels x 2 levels per pixel
  EXPECT_EQ(d.layers[1].pixels, 4);        // 2x2 pooled
  EXPECT_THAT(d.verilog, HasSubstr(fmt::format("come {} cycles after the frame's first pixel",
                                               d.latency_cycles)));
  EXPECT_THAT(d.verilog, HasSubstr("takes 16 cycles at best (the initiation interval)"));
  for (const char* module : {"lutnet_top_layer0 (", "lutnet_top_layer0_array (",
                             "lutnet_top_layer1 (", "lutnet_top_flatten2 (", "lutnet_top_layer2 ("})
    EXPECT_THAT(d.verilog, HasSubstr(std::string("module ") + module));
}

TEST(VerilogWriter, StreamLayersAfterADenseLayerAreRefused) {
  RandomModelSpec spec;
  spec.input_shape = {1, 4, 4};
  spec.convs = {{2, 2, 2, 1, 0, 1}};
  spec.hidden = {3};
  spec.num_classes = 2;
  spec.levels = 2;
  Model model = make_random_model(spec);
  // A 1x1 conv between the dense layers: a valid model, but not streaming hardware.
  Layer conv;
  conv.kind = LayerKind::kLutConv2d;
  conv.num_inputs = 3;
  conv.input_levels = 2;
  conv.num_outputs = 3;
  conv.output_levels = 2;
  conv.level_weights = {2, 1};
  conv.conn_offset = {0, 1, 2, 3};
  conv.lut_inputs = {0, 1, 2};
  conv.tables = {2, 2, 2, 2, 2, 2};
  conv.output_sign = {1, 1, 1};
  conv.thresholds = {1, 0, 2, 1, 0, 2, 1, 0, 2};
  model.layers.insert(model.layers.begin() + 2, conv);
  validate(model);
  try {
    generate_verilog(model, {});
    ADD_FAILURE() << "expected a lutnet::Error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("layer 2 is a lut_conv2d layer after a dense layer"));
  }
}

// Random tiled models: (K, N) from the published range, tile counts that divide some layers and
// not others (those stay unrolled), every option.
RandomModelSpec tiled_spec_for(uint64_t seed) {
  std::mt19937_64 rng(seed);
  RandomModelSpec spec;
  spec.input_shape = {1, 2 * (1 + static_cast<int>(rng() % 3)), 4};
  spec.input_bits_per_pixel = 1 + static_cast<int>(rng() % 2);
  spec.tiling.tm = 1 + static_cast<int>(rng() % 5);  // 4 and 5: threshold units
  spec.tiling.tn = 1 + static_cast<int>(rng() % 4);
  spec.tiling.k = 2 + static_cast<int>(rng() % 5);
  spec.tiling.n = 1 + static_cast<int>(rng() % std::min(3, spec.tiling.k - 1));
  spec.hidden.clear();
  for (int l = static_cast<int>(rng() % 3); l >= 0; --l)
    spec.hidden.push_back(spec.tiling.tm * spec.tiling.tn * (1 + static_cast<int>(rng() % 3)) +
                          (rng() % 4 == 0 ? 1 : 0));
  spec.num_classes = 2 + static_cast<int>(rng() % 6);
  spec.k = 1 + static_cast<int>(rng() % 6);
  spec.levels = 1 + static_cast<int>(rng() % 3);
  spec.keep_fraction = 0.1 + 0.8 * static_cast<double>(rng() % 100) / 100.0;
  spec.seed = seed;
  return spec;
}

TEST(VerilogWriter, TiledNetlistsEqualReferenceOnRandomModels) {
  int tiled = 0, unrolled = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    const Model model = make_random_model(tiled_spec_for(seed));
    for (const auto& layer : model.layers) (layer.tiling.enabled() ? tiled : unrolled)++;
    HdlOptions options;
    options.input_encoder = seed % 2 == 0;
    options.adder_pipeline_stages = static_cast<int>(seed % 4);
    options.xilinx_primitives = seed % 5 == 0;
    options.popcount = seed % 3 == 0   ? PopcountStyle::kFlatSum
                       : seed % 3 == 1 ? PopcountStyle::kCompressorTree
                                       : PopcountStyle::kCompressorGates;
    check_against_reference(model, options, seed);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(tiled, 20);
  EXPECT_GT(unrolled, 10);
}

// The initiation interval is the largest tiled layer's tile pairs, and the latency adds up the
// input register, every layer (a tiled one: its pairs, the memory and tile register, the array's
// pipeline, the accumulator and the output register) and the argmax register.
TEST(VerilogWriter, TiledTimingIsStatedAndAddsUp) {
  RandomModelSpec spec;
  spec.input_shape = {1, 4, 4};
  spec.hidden = {8, 6};
  spec.num_classes = 4;
  spec.tiling = {2, 4, 5, 1};  // layers 0 (2 x 4 tiles) and 1 (2 x 4) tiled, layer 2 not
  const Model model = make_random_model(spec);
  for (int pipeline : {0, 2}) {
    HdlOptions options;
    options.adder_pipeline_stages = pipeline;
    const HdlDesign d = generate_verilog(model, options);
    EXPECT_TRUE(d.in_ready);
    EXPECT_EQ(d.initiation_interval, 8);
    ASSERT_EQ(d.layers.size(), 3u);
    int latency = 1;
    for (const auto& hw : d.layers) {
      if (hw.tiled) {
        EXPECT_EQ(hw.busy_cycles, hw.tile_pairs);
        EXPECT_GE(hw.latency_cycles, hw.tile_pairs + 3);
        EXPECT_LE(hw.latency_cycles, hw.tile_pairs + 3 + pipeline);
      } else {
        EXPECT_EQ(hw.busy_cycles, 1);
      }
      latency += hw.latency_cycles;
      EXPECT_EQ(hw.register_depth, latency);
    }
    EXPECT_TRUE(d.layers[0].tiled && d.layers[1].tiled && !d.layers[2].tiled);
    EXPECT_EQ(d.layers[0].tile_pairs, 8);
    EXPECT_EQ(d.layers[0].weight_words, 8);
    EXPECT_EQ(d.latency_cycles, latency + 1);
    EXPECT_THAT(d.verilog, HasSubstr(fmt::format("one input every 8 cycles (initiation interval, "
                                                 "in_ready), latency {} cycles",
                                                 d.latency_cycles)));
    EXPECT_THAT(d.verilog, HasSubstr("output wire in_ready"));
    EXPECT_THAT(d.verilog, HasSubstr("(* ram_style = \"block\" *)"));
  }
  // Without tiled layers: one input per clock, no in_ready.
  spec.tiling = {};
  const HdlDesign plain = generate_verilog(make_random_model(spec), {});
  EXPECT_FALSE(plain.in_ready);
  EXPECT_EQ(plain.initiation_interval, 1);
  EXPECT_THAT(plain.verilog, ::testing::Not(HasSubstr("in_ready")));
}

// Corner cases of the sequencer: one tile pair (in_ready always high), and a tiled layer with
// no kept position at all (no weight memory, constant accumulators).
TEST(VerilogWriter, TiledLayersWithOnePairOrNothingKept) {
  RandomModelSpec spec;
  spec.input_shape = {1, 2, 4};
  spec.hidden = {4};
  spec.num_classes = 2;
  spec.levels = 2;
  spec.tiling = {1, 1, 4, 2};
  const Model one_pair = make_random_model(spec);
  const HdlDesign d = generate_verilog(one_pair, {});
  EXPECT_EQ(d.initiation_interval, 1);
  EXPECT_THAT(d.verilog, HasSubstr("assign in_ready = 1'b1;"));
  check_against_reference(one_pair, {}, 3);

  spec.tiling = {2, 2, 3, 1};
  Model empty = make_random_model(spec);
  Layer& layer = empty.layers[0];
  std::fill(layer.tiling.mask.begin(), layer.tiling.mask.end(), 0);
  std::fill(layer.tiling.tables.begin(), layer.tiling.tables.end(), 0);
  std::fill(layer.tiling.weight_bits.begin(), layer.tiling.weight_bits.end(), 0);
  lower_tiling(layer, "test");
  validate(empty);
  const HdlDesign e = generate_verilog(empty, {});
  EXPECT_EQ(e.layers[0].weight_word_bits, 0);
  EXPECT_THAT(e.verilog, HasSubstr("no kept tile position: no weight bits"));
  EXPECT_THAT(e.verilog, ::testing::Not(HasSubstr("reg [0:0] weights")));
  check_against_reference(empty, {}, 4);
}

// A tiled conv model small enough to read: 4x4 pixels, a 2x2 conv of 2 channels with 2 levels
// tiled 2x2 (K = 3, N = 1: one output channel and two window positions per tile, 4 pairs), a
// 2x2 / 1 max-pool, and an output layer of 2 classes tiled 2x2 too.
Model golden_tiled_conv_model() {
  RandomModelSpec spec;
  spec.input_shape = {1, 4, 4};
  spec.convs = {{2, 2, 2, 1, 2, 1}};
  spec.hidden = {};
  spec.num_classes = 2;
  spec.k = 2;
  spec.levels = 2;
  spec.keep_fraction = 0.5;
  spec.tiling = {2, 2, 3, 1};
  spec.seed = 45;
  Model model = make_random_model(spec);
  model.name = "golden-tiny-tiled-conv";
  return model;
}

TEST(VerilogWriter, GoldenTinyTiledConvModel) {
  check_golden("tiny_tiled_conv_model.v", generate_verilog(golden_tiled_conv_model(), {}).verilog);
}

// A tiled conv layer is a window stage around a tile sequencer around the array; the top takes a
// pixel every R clocks (in_ready), R = the conv's tile pairs here (its windows can come a pixel
// apart; the dense layer's 4 pairs fit in a frame of 16 pixels), and the latency follows the
// timing model at that rate.
TEST(VerilogWriter, TiledConvStagesArePaced) {
  const Model model = golden_tiled_conv_model();
  ASSERT_TRUE(model.layers[0].tiling.enabled() && model.layers[2].tiling.enabled());
  for (int pipeline : {0, 1}) {
    HdlOptions options;
    options.adder_pipeline_stages = pipeline;
    const HdlDesign d = generate_verilog(model, options);
    EXPECT_TRUE(d.streaming && d.in_ready);
    EXPECT_EQ(d.pixel_interval, 4);
    EXPECT_EQ(d.initiation_interval, 4 * 16);
    ASSERT_EQ(d.layers.size(), 3u);
    const LayerHardware& conv = d.layers[0];
    EXPECT_TRUE(conv.tiled);
    EXPECT_EQ(conv.tile_pairs, 4);
    EXPECT_EQ(conv.pixels, 9);
    EXPECT_EQ(conv.module, "lutnet_top_layer0");
    EXPECT_EQ(conv.sequencer_module, "lutnet_top_layer0_tiles");
    EXPECT_EQ(conv.array_module, "lutnet_top_layer0_array");
    EXPECT_GE(conv.latency_cycles, 4 + 3);
    EXPECT_LE(conv.latency_cycles, 4 + 3 + pipeline);
    EXPECT_EQ(d.layers[2].sequencer_module, d.layers[2].module);
    // The last needed pixel (row 3, column 3) is taken on cycle 15 * R; then the input register,
    // the tiled conv, the pool, the collector, the tiled output layer and out_valid.
    EXPECT_EQ(d.latency_cycles,
              15 * 4 + 1 + conv.latency_cycles + 1 + 1 + d.layers[2].latency_cycles + 1);
    EXPECT_THAT(d.verilog, HasSubstr("one pixel every 4 cycles (in_ready)"));
    EXPECT_THAT(d.verilog, HasSubstr(fmt::format("4 x 16 = 64 cycles per frame, latency {} cycles",
                                                 d.latency_cycles)));
    EXPECT_THAT(d.verilog, HasSubstr("output wire in_ready"));
    EXPECT_THAT(d.verilog, HasSubstr("conv2@2x2/1(K=3,N=1 tiled 2x2)"));
    std::vector<std::string> labels;
    for (const auto& m : d.modules) labels.push_back(m.label);
    EXPECT_THAT(labels, ::testing::ElementsAre("input", "layer 0", "layer 0 tiles",
                                               "layer 0 window", "layer 1", "flatten 2", "layer 2",
                                               "layer 2 tiles", "argmax", "top"));
    for (const auto& m : d.modules)
      if (m.label == "layer 0 tiles") {
        EXPECT_THAT(m.stub, HasSubstr("input wire in_valid"));
      }
  }
}

// A tiled model small enough to read: 2x4 pixels, a hidden layer of 4 neurons with 2 levels
// tiled 2x2 (K = 3, N = 1), and an unrolled output layer of 3 classes.
Model golden_tiled_model() {
  RandomModelSpec spec;
  spec.input_shape = {1, 2, 4};
  spec.hidden = {4};
  spec.num_classes = 3;
  spec.k = 2;
  spec.levels = 2;
  spec.keep_fraction = 0.5;
  spec.tiling = {2, 2, 3, 1};
  spec.seed = 44;
  Model model = make_random_model(spec);
  model.name = "golden-tiny-tiled";
  return model;
}

TEST(VerilogWriter, GoldenTinyTiledModel) {
  check_golden("tiny_tiled_model.v", generate_verilog(golden_tiled_model(), {}).verilog);
}

TEST(VerilogWriter, PopcountModule) {
  const std::string v = generate_popcount_module(20, PopcountStyle::kCompressorTree, "pc20");
  EXPECT_THAT(v, HasSubstr("module pc20 ("));
  EXPECT_THAT(v, HasSubstr("output reg [4:0] out_count"));
  EXPECT_THROW(generate_popcount_module(0, PopcountStyle::kFlatSum, "pc"), Error);
}

}  // namespace
}  // namespace lutnet::hdl
