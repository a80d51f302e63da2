#include "flows/verilator_build.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <optional>

#include "core/error.hpp"
#include "flows/subprocess.hpp"

namespace lutnet::flows {
namespace fs = std::filesystem;

void write_binary(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error(fmt::format("{}: cannot write", path.string()));
}

namespace {

std::string prefixed(const std::string& label) { return label.empty() ? "" : label + ": "; }

// The generated model's C++ compiler: clang++ where installed, for at -O0 it compiles Verilator's
// output 2.3x faster than g++ 12 (the quick MNIST model's largest file, 12.6 MB: 9.9 s against
// 23.2 s; session 9). Either gives the same simulation.
std::string simulator_compiler() { return find_program("clang++").empty() ? "g++" : "clang++"; }

}  // namespace

double build_simulator(const fs::path& verilator, const SimulatorBuild& b) {
  const std::string opt = b.optimization;
  std::vector<std::string> argv = {
      verilator.string(), "--cc", "--exe", "--build", "-j", std::to_string(std::max(1, b.jobs)),
      "--top-module", b.top_module, "--prefix", "Vlutnet", "-Mdir", "obj", "-o", "sim", "-O3",
      "--x-assign", "fast", "--x-initial", "fast", "--noassert", "-Wno-fatal",
      // Build time dominates large designs (docs/hardware.md): fewer, larger C++ files (each
      // re-parses its module's header).
      "--output-split", "200000", "-MAKEFLAGS",
      fmt::format("CXX={1} LINK={1} OPT_FAST={0} OPT_SLOW={0} OPT_GLOBAL={0}", opt,
                  simulator_compiler())};
  if (!b.optimize_after_inlining) argv.push_back("-fno-dfg-post-inline");
  for (const auto& s : b.sources) argv.push_back(s.string());
  const auto t0 = std::chrono::steady_clock::now();
  auto run = std::async(std::launch::async, [&] {
    run_command({argv, b.dir, b.dir / "verilator_build.log"});
  });
  // The build takes minutes on large designs: say what is going on (its C++ files done so far,
  // and the time left at the rate of the files done since the translation ended).
  std::optional<std::chrono::steady_clock::time_point> translated;
  while (run.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    size_t cpp_files = 0, objects = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(b.dir / "obj", ec)) {
      cpp_files += e.path().extension() == ".cpp";
      objects += e.path().extension() == ".o";
    }
    if (cpp_files == 0) {
      std::fprintf(stderr, "verify: %sVerilator is translating the design to C++ (%.0f s)\n",
                   prefixed(b.label).c_str(), seconds_since(t0));
      continue;
    }
    if (!translated) translated = std::chrono::steady_clock::now();
    std::string left;
    if (objects > 0 && objects < cpp_files)
      left = fmt::format(", about {:.0f} s left", seconds_since(*translated) *
                                                      static_cast<double>(cpp_files - objects) /
                                                      static_cast<double>(objects));
    std::fprintf(stderr, "verify: %scompiling the simulator, %zu of %zu C++ files (%.0f s%s)\n",
                 prefixed(b.label).c_str(), objects, cpp_files, seconds_since(t0), left.c_str());
  }
  run.get();
  return seconds_since(t0);
}

double run_simulator(const fs::path& dir, const std::string& label) {
  const auto start = std::chrono::steady_clock::now();
  auto run = std::async(std::launch::async, [&] {
    run_command(
        {{(dir / "obj" / "sim").string(), "inputs.bin", "outputs.bin"}, dir, dir / "sim.log"});
  });
  while (run.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    size_t done = 0, total = 0;
    std::ifstream progress(dir / "progress");
    if (!(progress >> done >> total) || done == 0 || total < done) continue;
    const double elapsed = seconds_since(start);
    std::fprintf(stderr, "verify: %ssimulated %zu of %zu images (%.0f s, about %.0f s left)\n",
                 prefixed(label).c_str(), done, total, elapsed,
                 elapsed / static_cast<double>(done) * static_cast<double>(total - done));
  }
  run.get();
  return seconds_since(start);
}

}  // namespace lutnet::flows
