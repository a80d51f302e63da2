// `lutnet power MODEL`: energy per frame of the synthesized design, from a gate-level simulation
// of its netlist on the test images (checked against the reference on every image) priced by
// the energy model, beside Vivado's vectorless assumptions; optionally a SAIF file and a Vivado
// script for the vendor's own figure. docs/power.md.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command_registry.hpp"
#include "cli/test_images.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/model_io.hpp"
#include "flows/power.hpp"

namespace lutnet::cli {
namespace {

struct PowerArgs {
  std::string model, dataset = "mnist", data_dir, work_dir, json, saif, tcl, part, coefficients;
  std::string print_coefficients;
  size_t limit = 0;
  int random = 0, jobs = 2;
  double clock_mhz = 200;
  bool encoder = false;
};

// Progress on stderr every few seconds, with the time left.
std::function<void(size_t, size_t, double)> progress_printer() {
  auto last = std::make_shared<double>(-10.0);
  return [last](size_t done, size_t total, double seconds) {
    if (seconds - *last < 5 && done < total) return;
    *last = seconds;
    const double left =
        done ? seconds * static_cast<double>(total - done) / static_cast<double>(done) : 0.0;
    fmt::print(stderr, "power: simulated {} of {} frames ({:.0f} s, about {:.0f} s left)\n", done,
               total, seconds, left);
  };
}

void run_power(const PowerArgs& args) {
  flows::PowerOptions options;
  if (!args.coefficients.empty())
    options.coefficients = power::read_coefficients(args.coefficients);
  if (args.model.empty()) throw Error("power needs a MODEL (or --print-coefficients FILE)");
  if (!args.tcl.empty() && args.saif.empty())
    throw Error("--tcl writes a script that reads the SAIF file: give --saif too");
  const Model model = load_model(args.model);
  const Dataset data = load_test_images(model, args.dataset, args.data_dir, args.random);
  options.synth.input_encoder = args.encoder;
  options.synth.jobs = args.jobs;
  options.synth.work_dir = args.work_dir;
  options.limit = args.limit;
  options.clock_mhz = args.clock_mhz;
  options.saif = args.saif;
  options.tcl = args.tcl;
  options.part = args.part;
  options.progress = progress_printer();
  const flows::PowerReport r = flows::estimate_power(model, data, options);
  if (!args.json.empty()) write_file_atomically(args.json, r.to_json().dump(2) + "\n");
  fmt::print("power {} on {} ({} LUTs, {} cells): coefficients {} ({})\n", args.model, data.name,
             r.synth.luts, r.cells, r.coefficients_origin, r.family);
  fmt::print("{}", r.table());
  fmt::print("time: synthesis {:.1f} s, gate-level simulation {:.1f} s, total {:.1f} s\n",
             r.synth.seconds, r.simulate_seconds, r.seconds);
  if (!r.saif.empty())
    fmt::print("wrote {}{}\n", r.saif.string(), r.tcl.empty() ? "" : " and " + r.tcl.string());
  if (!r.passed())
    throw Error(
        fmt::format("the netlist differs from the reference on {} of {} images; first: "
                    "image {}, {}",
                    r.mismatches, r.images, r.first_mismatch_image, r.first_mismatch));
}

void add_power(CLI::App& app) {
  auto args = std::make_shared<PowerArgs>();
  CLI::App* cmd = app.add_subcommand(
      "power",
      "Energy per frame: simulate the synthesized netlist (Yosys, UltraScale+ primitives) on the "
      "test images, check every result against the reference, count the toggles of every net, "
      "flip-flop and block-RAM read, and price them with the documented energy table; beside "
      "it Vivado's vectorless figure (docs/power.md)");
  cmd->add_option("MODEL", args->model, "Model file");
  cmd->add_option("--dataset", args->dataset, "Named dataset whose test split to stream");
  cmd->add_option("--data-dir", args->data_dir,
                  "Dataset directory (default $LUTNET_DATA_DIR or ./data)");
  cmd->add_option("--random", args->random, "Stream this many random images instead of a dataset")
      ->check(CLI::Range(1, 10'000'000));
  cmd->add_option("--limit", args->limit, "Only the first N images (default: all)");
  cmd->add_option("--clock", args->clock_mhz, "Clock in MHz for power and frames/s (default 200)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--coefficients", args->coefficients,
                  "Energy coefficients (JSON, as --print-coefficients writes) instead of the "
                  "built-in UltraScale+ table");
  cmd->add_option("--print-coefficients", args->print_coefficients,
                  "Write the built-in coefficients table (JSON) here, to edit, and stop");
  cmd->add_option("--saif", args->saif, "Write the simulated activity as a SAIF file");
  cmd->add_option("--tcl", args->tcl,
                  "With --saif: a Vivado script (and the Verilog it reads) that reports power "
                  "vectorless and with the SAIF file");
  cmd->add_option("--part", args->part, "Device for the Vivado script");
  cmd->add_flag("--input-encoder", args->encoder, "Include the 8-bit pixel encoder");
  cmd->add_option("--work-dir", args->work_dir,
                  "Keep the Yosys files and netlists here (default: a temporary directory, "
                  "removed)");
  cmd->add_option("--jobs", args->jobs, "Yosys runs at a time")->check(CLI::Range(1, 256));
  cmd->add_option("--json", args->json, "Write the report as JSON");
  cmd->callback([args] {
    if (!args->print_coefficients.empty()) {
      write_file_atomically(args->print_coefficients,
                            power::coefficients_json(power::builtin_coefficients()).dump(2) + "\n");
      fmt::print("wrote {}\n", args->print_coefficients);
      return;
    }
    run_power(*args);
  });
}

const CommandRegistration kPowerRegistration(55, add_power);

}  // namespace
}  // namespace lutnet::cli
