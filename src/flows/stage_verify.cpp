#include "flows/stage_verify.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <future>
#include <thread>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/read_file.hpp"
#include "flows/subprocess.hpp"
#include "flows/verify_records.hpp"
#include "flows/verilator_build.hpp"

namespace lutnet::flows {
namespace fs = std::filesystem;

namespace {

const std::string& module_labelled(const hdl::HdlDesign& design, const std::string& label) {
  for (const auto& m : design.modules)
    if (m.label == label) return m.name;
  throw InternalError(fmt::format("the design has no '{}' module", label));
}

// What one stage reads and must produce on every image, packed as the harness moves them.
struct StageData {
  std::vector<uint8_t> inputs;    // the harness's input file
  std::vector<uint8_t> expected;  // images x out_words x out_bytes
  std::vector<uint8_t> mask;      // out_words x out_bytes: the bits compared (live ones)
};

void set_bit(uint8_t* bytes, size_t j, bool v) {
  if (v) bytes[j / 8] |= static_cast<uint8_t>(1u << (j % 8));
}

// Pixel k of an activation as one word: bit j = level j / C of channel j % C (dense: one pixel).
void pack_pixel(const std::vector<uint8_t>& bits, const ActivationShape& s, int k, int width,
                uint8_t* word) {
  const int64_t plane = s.plane_bits();
  for (int j = 0; j < width; ++j) {
    const int level = j / s.channels, c = j % s.channels;
    set_bit(word, static_cast<size_t>(j),
            bits[level * plane + s.index(c, k / s.width, k % s.width)]);
  }
}

void pack_scores(const std::vector<int64_t>& scores, int score_width, uint8_t* word) {
  for (size_t c = 0; c < scores.size(); ++c)
    for (int b = 0; b < score_width; ++b)
      set_bit(word, c * static_cast<size_t>(score_width) + static_cast<size_t>(b),
              (scores[c] >> b) & 1);
}

// The input words of one stage for one image, and its expected output words, appended.
class StageExtractor {
 public:
  StageExtractor(const Model& model, const hdl::HdlDesign& design)
      : model_(model), design_(design), shapes_(infer_shapes(model)) {}

  // `encoded`: the image's encoded pixel words (the input stage's output, without mask).
  void append(const StageBench& s, const uint8_t* raw_words, const uint8_t* encoded,
              const std::vector<LayerTrace>& trace, int label, StageData& out) const {
    const size_t in_bytes = bytes_for(s.in_width), out_bytes = bytes_for(s.out_width);
    const size_t in_at = out.inputs.size(), out_at = out.expected.size();
    out.inputs.resize(in_at + in_bytes * static_cast<size_t>(s.in_words), 0);
    out.expected.resize(out_at + out_bytes * static_cast<size_t>(s.out_words), 0);
    uint8_t* in = &out.inputs[in_at];
    uint8_t* exp = &out.expected[out_at];
    const int i = s.layer;
    switch (s.kind) {
      case StageBench::Kind::kInput:
        std::memcpy(in, raw_words, in_bytes * static_cast<size_t>(s.in_words));
        std::memcpy(exp, encoded, out_bytes * static_cast<size_t>(s.out_words));
        break;
      case StageBench::Kind::kStream:
        if (i == 0)
          std::memcpy(in, encoded, in_bytes * static_cast<size_t>(s.in_words));
        else
          for (int k = 0; k < s.in_words; ++k)
            pack_pixel(trace[i - 1].output_bits, shapes_[i], k, s.in_width, in + k * in_bytes);
        for (int k = 0; k < s.out_words; ++k)
          pack_pixel(trace[i].output_bits, shapes_[i + 1], k, s.out_width, exp + k * out_bytes);
        break;
      case StageBench::Kind::kFlatten:
        for (int k = 0; k < s.in_words; ++k)
          pack_pixel(trace[i - 1].output_bits, shapes_[i], k, s.in_width, in + k * in_bytes);
        for (int b = 0; b < s.out_width; ++b) set_bit(exp, b, trace[i - 1].output_bits[b]);
        break;
      case StageBench::Kind::kDense: {
        const auto& x = trace[i - 1].output_bits;
        for (int b = 0; b < s.in_width; ++b) set_bit(in, b, x[b]);
        if (static_cast<size_t>(i) + 1 == model_.layers.size())
          pack_scores(trace[i].accumulators, design_.score_width, exp);
        else
          pack_pixel(trace[i].output_bits, shapes_[i + 1], 0, s.out_width, exp);
        break;
      }
      case StageBench::Kind::kArgmax:
        pack_scores(trace.back().accumulators, design_.score_width, in);
        for (int b = 0; b < s.out_width; ++b) set_bit(exp, b, (label >> b) & 1);
        break;
    }
  }

  // The bits of a stage's output words that the design must get right: live bits (pruned
  // outputs no later layer reads are tied to 0).
  std::vector<uint8_t> mask(const StageBench& s) const {
    const size_t out_bytes = bytes_for(s.out_width);
    std::vector<uint8_t> m(out_bytes * static_cast<size_t>(s.out_words), 0);
    const bool last = static_cast<size_t>(s.layer) + 1 == model_.layers.size();
    for (int k = 0; k < s.out_words; ++k)
      for (int b = 0; b < s.out_width; ++b) set_bit(&m[k * out_bytes], b, live(s, b, last));
    return m;
  }

 private:
  bool live(const StageBench& s, int b, bool last) const {
    switch (s.kind) {
      case StageBench::Kind::kInput:
        return design_.input_live[b] != 0;
      case StageBench::Kind::kStream:
        return design_.layers[s.layer].live[b] != 0;
      case StageBench::Kind::kFlatten: {
        // Flat bit b is level b / plane of position b % plane, channel (b % plane) / (H W).
        const ActivationShape& in = shapes_[s.layer];
        const int64_t plane = in.plane_bits(), pixels = int64_t{in.height} * in.width;
        const int64_t c = (b % plane) / pixels, level = b / plane;
        return design_.layers[s.layer - 1].live[level * in.channels + c] != 0;
      }
      case StageBench::Kind::kDense:
        return last || design_.layers[s.layer].live[b] != 0;
      case StageBench::Kind::kArgmax:
        return true;
    }
    return true;
  }

  const Model& model_;
  const hdl::HdlDesign& design_;
  std::vector<ActivationShape> shapes_;
};

}  // namespace

std::vector<StageBench> stage_benches(const Model& model, const hdl::HdlDesign& design) {
  if (!design.streaming) throw InternalError("stage_benches: not a streaming design");
  using Kind = StageBench::Kind;
  const std::vector<ActivationShape> shapes = infer_shapes(model);
  const int encoded_width = static_cast<int>(design.input_live.size());
  std::vector<StageBench> stages;
  stages.push_back({Kind::kInput, "input stage", module_labelled(design, "input"), -1, "data", "x",
                    design.input_width, encoded_width, design.frame_pixels, design.frame_pixels,
                    1});
  int prev_width = encoded_width, prev_words = design.frame_pixels;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const auto& hw = design.layers[i];
    const int layer = static_cast<int>(i);
    const std::string kind = layer_kind_name(model.layers[i].kind);
    if (model.layers[i].kind != LayerKind::kLutDense) {
      stages.push_back({Kind::kStream, fmt::format("layer {} ({})", i, kind), hw.module, layer,
                        "in_pixel", "out_pixel", prev_width, hw.output_width, prev_words, hw.pixels,
                        hw.latency_cycles, hw.tiled, hw.busy_cycles});
    } else {
      for (const auto& f : design.flattens) {
        if (f.layer != layer) continue;
        const int flat_width = static_cast<int>(shapes[i].plane_bits()) * shapes[i].levels;
        stages.push_back({Kind::kFlatten, fmt::format("flatten before layer {}", i), f.module,
                          layer, "in_pixel", "out_x", prev_width, flat_width, prev_words, 1, 1});
        prev_width = flat_width;
        prev_words = 1;
      }
      stages.push_back({Kind::kDense, fmt::format("layer {} ({})", i, kind), hw.module, layer, "x",
                        "y", prev_width, hw.output_width, 1, 1, hw.latency_cycles, hw.tiled,
                        hw.busy_cycles});
    }
    prev_width = hw.output_width;
    prev_words = hw.pixels;
  }
  stages.push_back({Kind::kArgmax, "argmax", module_labelled(design, "argmax"),
                    static_cast<int>(model.layers.size()) - 1, "scores", "class_out", prev_width,
                    design.class_width, 1, 1, 1});
  return stages;
}

namespace {

// Words of a harness input file without its 16-byte header.
std::vector<uint8_t> words_of(std::vector<uint8_t> file) {
  file.erase(file.begin(), file.begin() + 16);
  return file;
}

uint64_t field(const uint8_t* word, int from, int width) {
  uint64_t v = 0;
  for (int b = 0; b < width; ++b) v |= static_cast<uint64_t>(bit_of(word, from + b)) << b;
  return v;
}

// Names output bit b of word k of a stage, with both values.
std::string describe(const Model& model, const hdl::HdlDesign& d, const StageBench& s, int k, int b,
                     const uint8_t* got, const uint8_t* expected) {
  using Kind = StageBench::Kind;
  const auto values = [&](int from, int width) {
    return fmt::format("RTL {}, reference {}", field(got, from, width),
                       field(expected, from, width));
  };
  if (s.kind == Kind::kArgmax) return fmt::format("argmax: class {}", values(0, s.out_width));
  if (s.kind == Kind::kDense && static_cast<size_t>(s.layer) + 1 == model.layers.size()) {
    const int c = b / d.score_width;
    return fmt::format("layer {} (output) accumulator of class {}: {}", s.layer, c,
                       values(c * d.score_width, d.score_width));
  }
  const std::string bits = values(b, 1);
  if (s.kind == Kind::kInput) {
    const int t = static_cast<int>(model.input.thresholds.size());
    const int width = infer_shapes(model).front().width;
    return fmt::format("input stage pixel (row {}, column {}) channel {} threshold {}: {}",
                       k / width, k % width, b / t, b % t, bits);
  }
  const ActivationShape out = infer_shapes(model)[static_cast<size_t>(s.layer) + 1];
  if (s.kind == Kind::kFlatten) return fmt::format("{} bit {}: {}", s.label, b, bits);
  if (s.kind == Kind::kDense)
    return fmt::format("layer {} output {} bit {}: {}", s.layer, b % out.channels, b / out.channels,
                       bits);
  return fmt::format("{} pixel (row {}, column {}) channel {} bit {}: {}", s.label, k / out.width,
                     k % out.width, b % out.channels, b / out.channels, bits);
}

struct StageOutcome {
  StageReport report;
  std::vector<uint8_t> bad;  // per image
  long first_image = -1;
  std::string first;
};

// Compares the harness output file of stage `s` with the expected words.
StageOutcome compare_stage(const Model& model, const hdl::HdlDesign& d, const StageBench& s,
                           const StageData& data, size_t count, const fs::path& outputs) {
  StageOutcome o;
  o.report.label = s.label;
  o.bad.assign(count, 0);
  const std::string out = read_text_file(outputs, "file");
  const size_t word = bytes_for(s.out_width), per_image = word * static_cast<size_t>(s.out_words);
  if (out.size() != 32 + count * per_image)
    throw Error(fmt::format("{}: {} bytes, expected {}", outputs.string(), out.size(),
                            32 + count * per_image));
  const auto* bytes = reinterpret_cast<const uint8_t*>(out.data());
  uint64_t trailer[4];
  std::memcpy(trailer, bytes, sizeof trailer);
  if (trailer[0] != kOutputMagic || trailer[1] != count)
    throw Error(fmt::format("{}: not the output of this run", outputs.string()));
  for (size_t n = 0; n < count; ++n) {
    const uint8_t* got = bytes + 32 + n * per_image;
    const uint8_t* exp = &data.expected[n * per_image];
    for (size_t j = 0; j < per_image && !o.bad[n]; ++j) {
      const uint8_t diff = static_cast<uint8_t>((got[j] ^ exp[j]) & data.mask[j]);
      if (!diff) continue;
      o.bad[n] = 1;
      ++o.report.mismatches;
      if (o.first_image >= 0) break;
      const int k = static_cast<int>(j / word);
      const int b = static_cast<int>((j % word) * 8) + __builtin_ctz(diff);
      o.first_image = static_cast<long>(n);
      o.first = describe(model, d, s, k, b, got + k * word, exp + k * word);
    }
  }
  if (const uint64_t errors = trailer[2]) {
    o.report.mismatches = std::max<size_t>(o.report.mismatches, 1);
    if (o.first_image < 0) {
      o.first_image = 0;
      o.first = fmt::format(
          "{}: {} valid-handshake errors (outputs not one per window or frame), "
          "first at clock {}",
          s.label, errors, static_cast<int64_t>(trailer[3]));
      o.bad[0] = 1;
    }
  }
  return o;
}

// Every stage's input file, expected words and mask, from the reference on `count` images.
std::vector<StageData> stage_data(const Model& model, const Model& golden,
                                  const hdl::HdlDesign& design,
                                  const std::vector<StageBench>& stages, const Dataset& data,
                                  size_t count) {
  const std::vector<uint8_t> raw = words_of(harness_inputs(model, design, data, count));
  hdl::HdlDesign plain;  // the input stage's output: the same pixels, encoded
  plain.streaming = true;
  plain.frame_pixels = design.frame_pixels;
  plain.input_width = static_cast<int>(design.input_live.size());
  const std::vector<uint8_t> encoded = words_of(harness_inputs(model, plain, data, count));
  const size_t raw_image = raw.size() / count, encoded_image = encoded.size() / count;
  const StageExtractor extractor(model, design);
  std::vector<StageData> out(stages.size());
  for (size_t s = 0; s < stages.size(); ++s) {
    put_u32(out[s].inputs, kInputMagic);
    put_u32(out[s].inputs, static_cast<uint32_t>(count));
    put_u32(out[s].inputs, static_cast<uint32_t>(bytes_for(stages[s].in_width)));
    put_u32(out[s].inputs, static_cast<uint32_t>(stages[s].in_words));
    out[s].mask = extractor.mask(stages[s]);
  }
  const size_t image_bytes = static_cast<size_t>(model.input.num_pixels());
  std::vector<LayerTrace> trace;
  for (size_t n = 0; n < count; ++n) {
    trace.clear();  // evaluate_reference appends
    const int label = evaluate_reference(golden, &data.pixels[n * image_bytes], &trace).label;
    for (size_t s = 0; s < stages.size(); ++s)
      extractor.append(stages[s], &raw[n * raw_image], &encoded[n * encoded_image], trace, label,
                       out[s]);
  }
  return out;
}

// Builds stage `s`'s simulator in `dir`, runs it on its data once that is ready, compares.
StageOutcome run_stage(const fs::path& verilator, const Model& model, const hdl::HdlDesign& design,
                       const StageBench& s, const std::vector<fs::path>& verilog,
                       std::shared_future<void> data_ready, const std::vector<StageData>& data,
                       size_t index, size_t count, const fs::path& dir,
                       const VerifyOptions& options) {
  fs::create_directories(dir);
  write_file_atomically(dir / "harness.cpp", stage_harness(s, options.bubble_every));
  SimulatorBuild build;
  build.dir = dir;
  build.sources = verilog;
  build.sources.push_back("harness.cpp");
  build.top_module = s.module;
  // A streaming stage runs a clock per pixel (a tiled one its tile pairs per window): -O1 pays
  // back its longer build many times over. The others run a clock per image (a tiled dense
  // layer its tile pairs): -O0 (the dense layers are the largest modules).
  build.optimization = s.streaming() ? "-O1" : "-O0";
  build.label = s.label;
  StageOutcome o;
  const double build_seconds = build_simulator(verilator, build);
  data_ready.get();  // rethrows what the reference threw
  write_binary(dir / "inputs.bin", data[index].inputs);
  const double run_seconds = run_simulator(dir, s.label);
  o = compare_stage(model, design, s, data[index], count, dir / "outputs.bin");
  o.report.build_seconds = build_seconds;
  o.report.run_seconds = run_seconds;
  std::fprintf(stderr, "verify: %s: built in %.0f s, %zu images in %.0f s, %zu mismatches\n",
               s.label.c_str(), build_seconds, count, run_seconds, o.report.mismatches);
  return o;
}

// A rough build cost: the Verilog text of the stage's modules (a tiled conv stage: window,
// sequencer and array).
size_t verilog_size(const hdl::HdlDesign& design, const std::string& module) {
  size_t bytes = 0;
  for (const auto& m : design.modules)
    if (m.name == module || m.name == module + "_array" || m.name == module + "_tiles")
      bytes += m.verilog.size();
  return bytes;
}

}  // namespace

StageVerification verify_stages(const Model& model, const Model& golden,
                                const hdl::HdlDesign& design, const Dataset& data, size_t count,
                                const fs::path& work_dir, const VerifyOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const fs::path verilator = require_program(
      "verilator", "install Verilator (apt-get install verilator) to verify the RTL");
  const std::vector<StageBench> stages = stage_benches(model, design);
  fs::create_directories(work_dir);
  std::vector<fs::path> verilog = {fs::absolute(work_dir / (design.top_name + ".v"))};
  write_file_atomically(verilog[0], design.verilog);
  if (!design.simulation_models.empty()) {
    verilog.push_back(fs::absolute(work_dir / "xilinx_lut_models.v"));
    write_file_atomically(verilog[1], design.simulation_models);
  }
  StageVerification v;
  v.images = count;
  std::vector<StageData> data_of;
  std::shared_future<void> data_ready =
      std::async(std::launch::async, [&] {
        const auto t = std::chrono::steady_clock::now();
        data_of = stage_data(model, golden, design, stages, data, count);
        v.reference_seconds = seconds_since(t);
      }).share();
  // Largest first, so that the long build overlaps the small stages' builds and runs.
  std::vector<size_t> order(stages.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return verilog_size(design, stages[a].module) > verilog_size(design, stages[b].module);
  });
  std::vector<StageOutcome> outcomes(stages.size());
  std::vector<std::exception_ptr> failures(stages.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t at; (at = next++) < order.size();) {
      const size_t i = order[at];
      try {
        outcomes[i] = run_stage(verilator, model, design, stages[i], verilog, data_ready, data_of,
                                i, count, work_dir / fmt::format("stage{}", i), options);
      } catch (...) {
        failures[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> workers;
  for (int j = 0; j < std::max(1, options.jobs); ++j) workers.emplace_back(worker);
  for (auto& t : workers) t.join();
  data_ready.get();
  for (const auto& f : failures)
    if (f) std::rethrow_exception(f);
  std::vector<uint8_t> bad(count, 0);
  for (size_t i = 0; i < stages.size(); ++i) {
    const StageOutcome& o = outcomes[i];
    for (size_t n = 0; n < count; ++n) bad[n] |= o.bad[n];
    if (o.first_image >= 0 &&
        (v.first_mismatch_image < 0 || o.first_image < v.first_mismatch_image)) {
      v.first_mismatch_image = o.first_image;
      v.first_mismatch_layer = stages[i].layer;
      v.first_mismatch = o.first;
    }
    v.stages.push_back(o.report);
  }
  v.mismatches = static_cast<size_t>(std::count(bad.begin(), bad.end(), 1));
  v.seconds = seconds_since(start);
  return v;
}

}  // namespace lutnet::flows
