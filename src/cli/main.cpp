// lutnet: one thin CLI over the libraries. Commands register themselves (command_registry.hpp).
#include <algorithm>
#include <cstdio>
#include <exception>

#include "cli/command_registry.hpp"
#include "core/error.hpp"

namespace lutnet::cli {
std::vector<CommandEntry>& command_registry() {
  static std::vector<CommandEntry> registry;
  return registry;
}
}  // namespace lutnet::cli

int main(int argc, char** argv) {
  CLI::App app{
      "lutnet: LUT-native neural networks for FPGAs -- train, export, run, build to "
      "Verilog, verify and synthesize."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lutnet 0.1.0");
  auto& registry = lutnet::cli::command_registry();
  std::stable_sort(registry.begin(), registry.end(),
                   [](const auto& a, const auto& b) { return a.order < b.order; });
  for (const auto& entry : registry) entry.add(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const lutnet::Error& e) {
    std::fprintf(stderr, "lutnet: error: %s\n", e.what());
    return 1;
  } catch (const lutnet::InternalError& e) {
    std::fprintf(stderr, "lutnet: internal error (a bug; please report it): %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lutnet: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
