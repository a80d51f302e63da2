// `lutnet verify MODEL`: every test image through the Verilated RTL, compared with the reference
// evaluator (class, output accumulators, hidden layer outputs). Exits non-zero on any mismatch.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command_registry.hpp"
#include "cli/test_images.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/model_io.hpp"
#include "flows/verify.hpp"

namespace lutnet::cli {
namespace {

struct VerifyArgs {
  std::string model, dataset = "mnist", data_dir, work_dir, json, popcount = "tree";
  size_t limit = 0, stage_limit = 0;
  std::string stages = "on";
  int random = 0, pipeline = 0, jobs = 2, bubble_every = 13;
  bool encoder = false, xilinx = false, keep = false;
};

void add_verify(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Simulate the generated RTL (Verilator) on a test set and compare every image "
      "with the reference evaluator");
  cmd->add_option("MODEL", args->model, "Model file")->required();
  cmd->add_option("--dataset", args->dataset, "Named dataset whose test split to stream");
  cmd->add_option("--data-dir", args->data_dir,
                  "Dataset directory (default $LUTNET_DATA_DIR or ./data)");
  cmd->add_option("--random", args->random, "Stream this many random images instead of a dataset")
      ->check(CLI::Range(1, 10'000'000));
  cmd->add_option("--limit", args->limit,
                  "Only the first N images through the assembled design (default: all; conv "
                  "models with --stages on: 100)");
  cmd->add_option("--stages", args->stages,
                  "Conv models: also simulate every stage alone on every image (its inputs from "
                  "the reference); ~100x faster per image than the assembled design")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--stage-limit", args->stage_limit,
                  "Only the first N images through the stages (default: all)");
  cmd->add_flag("--input-encoder", args->encoder, "Feed pixels through the hardware encoder");
  cmd->add_flag("--xilinx-lut6", args->xilinx, "Simulate the LUTn-primitive form");
  cmd->add_option("--adder-pipeline", args->pipeline, "Extra adder-tree register stages")
      ->check(CLI::Range(0, 64));
  cmd->add_option("--popcount", args->popcount, "Adder trees: tree, gates or flat")
      ->check(CLI::IsMember({"tree", "gates", "flat"}));
  cmd->add_option("--work-dir", args->work_dir,
                  "Keep the generated Verilog, harness and build here (default: a temporary "
                  "directory, removed)");
  cmd->add_option("--jobs", args->jobs, "Parallel C++ compiles")->check(CLI::Range(1, 256));
  cmd->add_option("--bubble-every", args->bubble_every,
                  "Leave every N-th clock without input, to test the valid handshake (default 13; "
                  "0: inputs back to back, which also checks the latency of every frame)")
      ->check(CLI::Range(0, 1'000'000));
  cmd->add_option("--json", args->json, "Write the report as JSON");
  cmd->callback([args] {
    const Model model = load_model(args->model);
    const Dataset data = load_test_images(model, args->dataset, args->data_dir, args->random);
    flows::VerifyOptions options;
    options.work_dir = args->work_dir;
    options.hdl.input_encoder = args->encoder;
    options.limit = args->limit;
    options.stages = args->stages == "on";
    options.stage_limit = args->stage_limit;
    options.hdl.xilinx_primitives = args->xilinx;
    options.hdl.adder_pipeline_stages = args->pipeline;
    options.hdl.popcount = hdl::parse_popcount_style(args->popcount);
    options.jobs = args->jobs;
    options.bubble_every = args->bubble_every;
    const flows::VerifyReport r = flows::verify_rtl(model, data, options);
    if (!args->json.empty()) {
      const nlohmann::json j = {{"dataset", data.name},
                                {"images", r.images},
                                {"mismatches", r.mismatches},
                                {"rtl_correct", r.rtl_correct},
                                {"first_mismatch_image", r.first_mismatch_image},
                                {"first_mismatch_layer", r.first_mismatch_layer},
                                {"first_mismatch", r.first_mismatch},
                                {"latency_cycles", r.latency_cycles},
                                {"cycles_per_frame", r.cycles_per_frame},
                                {"generate_seconds", r.generate_seconds},
                                {"build_seconds", r.build_seconds},
                                {"run_seconds", r.run_seconds},
                                {"reference_seconds", r.reference_seconds},
                                {"stage_images", r.stage_images},
                                {"stage_mismatches", r.stage_mismatches},
                                {"stage_seconds", r.stage_seconds}};
      write_file_atomically(args->json, j.dump(2) + "\n");
    }
    fmt::print(
        "verify {}: {} images, {} mismatches; RTL classifies {} correctly ({:.2f}%); "
        "latency {} cycles, {} cycles per {}\n",
        data.name, r.images, r.mismatches, r.rtl_correct,
        100.0 * static_cast<double>(r.rtl_correct) / static_cast<double>(r.images),
        r.latency_cycles, r.cycles_per_frame, r.cycles_per_frame > 1 ? "frame" : "image");
    fmt::print(
        "time: generate {:.1f} s, Verilator build {:.1f} s, simulate {:.1f} s, reference "
        "{:.1f} s (during the build)\n",
        r.generate_seconds, r.build_seconds, r.run_seconds, r.reference_seconds);
    if (!r.stages.empty()) {
      fmt::print("stages: {} images through each of {} stages alone, {} mismatches ({:.1f} s)\n",
                 r.stage_images, r.stages.size(), r.stage_mismatches, r.stage_seconds);
      for (const auto& s : r.stages)
        fmt::print("  {:<28} {} mismatches; build {:.1f} s, simulate {:.1f} s\n", s.label,
                   s.mismatches, s.build_seconds, s.run_seconds);
    }
    if (!r.passed())
      throw Error(fmt::format(
          "RTL differs from the reference on {} of {} images{}; first: image {}, {}", r.mismatches,
          r.images,
          r.stages.empty()
              ? ""
              : fmt::format(" and {} of {} in the stages", r.stage_mismatches, r.stage_images),
          r.first_mismatch_image, r.first_mismatch));
  });
}

const CommandRegistration kVerifyRegistration(40, add_verify);

}  // namespace
}  // namespace lutnet::cli
