#include "flows/verify.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/input_encoding.hpp"
#include "core/read_file.hpp"
#include "core/reference_evaluator.hpp"
#include "flows/stage_verify.hpp"
#include "flows/subprocess.hpp"
#include "flows/verify_records.hpp"
#include "flows/verilator_build.hpp"

namespace lutnet::flows {
namespace fs = std::filesystem;

std::vector<uint8_t> harness_inputs(const Model& model, const hdl::HdlDesign& design,
                                    const Dataset& data, size_t count) {
  const size_t image_bytes = static_cast<size_t>(model.input.num_pixels());
  const size_t in_bytes = bytes_for(design.input_width);
  const size_t words = design.streaming ? static_cast<size_t>(design.frame_pixels) : 1;
  std::vector<uint8_t> inputs;
  put_u32(inputs, kInputMagic);
  put_u32(inputs, static_cast<uint32_t>(count));
  put_u32(inputs, static_cast<uint32_t>(in_bytes));
  put_u32(inputs, static_cast<uint32_t>(words));
  const int t = static_cast<int>(model.input.thresholds.size());
  const size_t channels = image_bytes / words;  // streaming: channels per pixel
  std::vector<uint8_t> bits(static_cast<size_t>(model.input.num_bits()));
  std::vector<uint8_t> packed(in_bytes);
  for (size_t n = 0; n < count; ++n) {
    const uint8_t* image = &data.pixels[n * image_bytes];
    if (!design.input_encoder) encode_input(model.input, image, bits.data());
    for (size_t w = 0; w < words; ++w) {
      std::fill(packed.begin(), packed.end(), 0);
      if (!design.streaming) {
        if (design.input_encoder) std::copy(image, image + image_bytes, packed.begin());
        for (size_t j = 0; j < bits.size() && !design.input_encoder; ++j)
          packed[j / 8] |= static_cast<uint8_t>(bits[j] << (j % 8));
      } else {
        // Pixel w of channel c is pixel c * words + w of the CHW image (encoded: bit * T + j).
        for (size_t c = 0; c < channels; ++c) {
          const size_t p = c * words + w;
          if (design.input_encoder) {
            packed[c] = image[p];
            continue;
          }
          for (int j = 0; j < t; ++j) {
            const size_t bit = c * static_cast<size_t>(t) + static_cast<size_t>(j);
            packed[bit / 8] |= static_cast<uint8_t>(bits[p * t + j] << (bit % 8));
          }
        }
      }
      inputs.insert(inputs.end(), packed.begin(), packed.end());
    }
  }
  return inputs;
}

namespace {

struct Mismatch {
  int layer = -1;
  std::string what;  // empty: none
};

// The first differing hidden-layer bit of one image's record.
Mismatch hidden_mismatch(const Model& model, const hdl::HdlDesign& design,
                         const RecordLayout& layout, const std::vector<ActivationShape>& shapes,
                         const std::vector<LayerTrace>& trace, const uint8_t* record) {
  for (size_t i = 0; i + 1 < model.layers.size(); ++i) {
    const auto& hw = design.layers[i];
    const auto& expected = trace[i].output_bits;
    const ActivationShape& out = shapes[i + 1];
    const size_t pixels = layout.pixels[i];
    const size_t per_pixel = static_cast<size_t>(hw.output_width);
    for (size_t k = 0; k < pixels; ++k) {
      const uint8_t* got_bits = record + layout.layer_offset[i] + k * layout.pixel_bytes[i];
      for (size_t j = 0; j < per_pixel; ++j) {
        if (!hw.live[j]) continue;  // pruned: no later layer reads it, tied to 0 in the RTL
        // A pixel's bit j is level j / C of channel j % C; dense layers are one pixel.
        const size_t channels = static_cast<size_t>(out.channels);
        const size_t level = j / channels, channel = j % channels;
        const size_t at = level * channels * pixels +
                          static_cast<size_t>(out.index(static_cast<int>(channel),
                                                        static_cast<int>(k) / out.width,
                                                        static_cast<int>(k) % out.width));
        const bool got = bit_of(got_bits, j);
        if (got == (expected[at] != 0)) continue;
        const std::string where = model.layers[i].kind == LayerKind::kLutDense
                                      ? fmt::format("output {}", channel)
                                      : fmt::format("({}) pixel (row {}, column {}) channel {}",
                                                    layer_kind_name(model.layers[i].kind),
                                                    k / static_cast<size_t>(out.width),
                                                    k % static_cast<size_t>(out.width), channel);
        return {static_cast<int>(i), fmt::format("layer {} {} bit {}: RTL {}, reference {}", i,
                                                 where, level, got ? 1 : 0, expected[at])};
      }
    }
  }
  return {};
}

// Compares every record with the reference traces into the report.
void compare_records(const Model& model, const hdl::HdlDesign& design, const Dataset& data,
                     const std::vector<std::vector<LayerTrace>>& traces,
                     const std::vector<int>& labels, const uint8_t* records, VerifyReport& report) {
  const RecordLayout layout(design);
  const std::vector<ActivationShape> shapes = infer_shapes(model);
  const int last = static_cast<int>(model.layers.size()) - 1;
  for (size_t n = 0; n < traces.size(); ++n) {
    const uint8_t* r = records + n * layout.size;
    auto [layer, what] = hidden_mismatch(model, design, layout, shapes, traces[n], r);
    if (what.empty()) layer = last;
    const auto& acc = traces[n].back().accumulators;
    for (size_t c = 0; c < acc.size() && what.empty(); ++c) {
      int64_t got = 0;
      for (int b = 0; b < design.score_width; ++b)
        got |= static_cast<int64_t>(
                   bit_of(r + layout.score_offset, c * static_cast<size_t>(design.score_width) + b))
               << b;
      if (got != acc[c])
        what = fmt::format("layer {} (output) accumulator of class {}: RTL {}, reference {}", last,
                           c, got, acc[c]);
    }
    const int rtl_class = static_cast<int>(get_u32(r));
    if (what.empty() && rtl_class != labels[n])
      what = fmt::format("argmax: RTL class {}, reference class {}", rtl_class, labels[n]);
    report.rtl_correct += rtl_class == static_cast<int>(data.labels[n]);
    if (what.empty()) continue;
    ++report.mismatches;
    if (report.first_mismatch_image >= 0) continue;
    report.first_mismatch_image = static_cast<long>(n);
    report.first_mismatch_layer = layer;
    report.first_mismatch = std::move(what);
  }
}

// Builds the Verilated simulator of the whole `design` in `w`; returns the build time.
double build_design_simulator(const fs::path& verilator, const fs::path& w,
                              const hdl::HdlDesign& design, const VerifyOptions& options) {
  SimulatorBuild build;
  build.dir = w;
  build.top_module = design.top_name;
  build.jobs = options.jobs;
  build.sources = {design.top_name + ".v"};
  write_file_atomically(w / build.sources[0], design.verilog);
  if (!design.simulation_models.empty()) {
    write_file_atomically(w / "xilinx_lut_models.v", design.simulation_models);
    build.sources.push_back("xilinx_lut_models.v");
  }
  write_file_atomically(w / "harness.cpp", verilator_harness(design, options.bubble_every));
  // Hidden layer outputs stay readable from the harness, so a mismatch names its layer. Layer
  // modules stay separate classes: inlined, the whole network's signals would land in one
  // C++ header that every generated file re-parses (the build then takes several times longer).
  write_file_atomically(w / "public.vlt",
                        fmt::format("`verilator_config\n"
                                    "public_flat_rd -module \"{0}\" -var \"layer*_y\"\n"
                                    "public_flat_rd -module \"{0}\" -var \"layer*_valid\"\n"
                                    "no_inline -module \"{0}_layer*\"\n",
                                    design.top_name));
  build.sources.push_back("public.vlt");
  build.sources.push_back("harness.cpp");
  build.optimize_after_inlining = false;  // the layers are not inlined
  // -O0: the whole design simulates few clocks per image (one; a frame's pixels when
  // streaming, where the per-stage simulation does the bulk of the work).
  return build_simulator(verilator, build);
}

// Simulates the assembled design on the first `count` images in `w` and compares every record
// with the reference evaluation of `golden` into `report`.
void simulate_assembled(const fs::path& verilator, const Model& model, const Model& golden,
                        const hdl::HdlDesign& design, const Dataset& data, size_t count,
                        const fs::path& w, const VerifyOptions& options, VerifyReport& report) {
  const size_t image_bytes = static_cast<size_t>(model.input.num_pixels());
  // The reference runs while Verilator builds.
  auto reference = std::async(std::launch::async, [&] {
    auto start = std::chrono::steady_clock::now();
    std::vector<std::vector<LayerTrace>> traces(count);
    std::vector<int> labels(count);
    for (size_t n = 0; n < count; ++n)
      labels[n] = evaluate_reference(golden, &data.pixels[n * image_bytes], &traces[n]).label;
    return std::make_tuple(std::move(traces), std::move(labels), seconds_since(start));
  });
  write_binary(w / "inputs.bin", harness_inputs(model, design, data, count));
  report.build_seconds = build_design_simulator(verilator, w, design, options);
  report.run_seconds = run_simulator(w, "");
  auto [traces, labels, reference_seconds] = reference.get();
  report.reference_seconds = reference_seconds;

  const RecordLayout layout(design);
  const std::string out = read_text_file(w / "outputs.bin", "file");
  if (out.size() != 32 + count * layout.size)
    throw Error(fmt::format("{}: {} bytes, expected {}; see {}", (w / "outputs.bin").string(),
                            out.size(), 32 + count * layout.size, (w / "sim.log").string()));
  const auto* bytes = reinterpret_cast<const uint8_t*>(out.data());
  uint64_t trailer[4];
  std::memcpy(trailer, bytes, sizeof trailer);
  if (trailer[0] != kOutputMagic || trailer[1] != count)
    throw Error(fmt::format("{}: not the output of this run", (w / "outputs.bin").string()));
  compare_records(model, design, data, traces, labels, bytes + 32, report);
  if (const uint64_t protocol_errors = trailer[2]) {
    if (report.first_mismatch_image < 0) {
      report.first_mismatch = fmt::format(
          "{} valid-handshake errors (out_valid not {} cycles after {}), first at cycle {}",
          protocol_errors, design.latency_cycles,
          design.streaming && design.in_ready
              ? fmt::format("the clock that took a frame's first pixel, a stage's valid count off, "
                            "or in_ready not exactly {} cycles after a taken pixel",
                            design.pixel_interval)
          : design.streaming ? "a frame's first pixel, or a stage's valid count off"
          : design.in_ready
              ? fmt::format("the clock that took the input, or in_ready not exactly {} cycles "
                            "after it",
                            design.initiation_interval)
              : std::string("in_valid"),
          static_cast<int64_t>(trailer[3]));
      report.first_mismatch_layer = static_cast<int>(model.layers.size()) - 1;
    }
    report.mismatches = std::max<size_t>(report.mismatches, 1);
  }
}

void add_stage_results(const StageVerification& v, VerifyReport& report) {
  report.stage_images = v.images;
  report.stage_mismatches = v.mismatches;
  report.stage_seconds = v.seconds;
  report.stages = v.stages;
  if (report.first_mismatch_image < 0 && v.first_mismatch_image >= 0) {
    report.first_mismatch_image = v.first_mismatch_image;
    report.first_mismatch_layer = v.first_mismatch_layer;
    report.first_mismatch = v.first_mismatch;
  }
}

const Model& reference_for(const Model& model, const VerifyOptions& options) {
  if (!options.reference_model) return model;
  const Model& golden = *options.reference_model;
  validate(golden);
  if (golden.layers.size() != model.layers.size() ||
      golden.input.num_bits() != model.input.num_bits())
    throw Error("the reference model does not have the simulated model's shape");
  return golden;
}

}  // namespace

VerifyReport verify_rtl(const Model& model, const Dataset& data, const VerifyOptions& options) {
  validate(model);
  const size_t image_bytes = static_cast<size_t>(model.input.num_pixels());
  if (data.pixels.size() != data.labels.size() * image_bytes)
    throw Error(
        fmt::format("dataset '{}': {} pixel bytes for {} images, but the model expects "
                    "{} pixels per image",
                    data.name, data.pixels.size(), data.labels.size(), image_bytes));
  const size_t available = data.labels.size();
  if (available == 0) throw Error(fmt::format("dataset '{}' has no images to verify", data.name));
  if (available > 0xffff'ffffu) throw Error("too many images for one verification run");
  const Model& golden = reference_for(model, options);
  const fs::path verilator = require_program(
      "verilator", "install Verilator (apt-get install verilator) to verify the RTL");

  VerifyReport report;
  const auto t0 = std::chrono::steady_clock::now();
  const hdl::HdlDesign design = hdl::generate_verilog(model, options.hdl);
  report.latency_cycles = design.latency_cycles;
  report.cycles_per_frame = design.initiation_interval;
  report.generate_seconds = seconds_since(t0);
  const bool staged = options.stages && design.streaming;
  constexpr size_t kAssembledImagesWhenStaged = 100;
  const size_t wanted = options.limit ? options.limit : staged ? kAssembledImagesWhenStaged : 0;
  report.images = wanted ? std::min(wanted, available) : available;

  WorkDir dir(options.work_dir, options.keep, "lutnet-verify");
  simulate_assembled(verilator, model, golden, design, data, report.images, dir.path(), options,
                     report);
  if (staged) {
    const size_t count = options.stage_limit ? std::min(options.stage_limit, available) : available;
    add_stage_results(
        verify_stages(model, golden, design, data, count, dir.path() / "stages", options), report);
  }
  if (dir.kept()) report.work_dir = dir.path();
  return report;
}

}  // namespace lutnet::flows
