#pragma once
// Each `lutnet <command>` lives in its own *_command.cpp and registers itself here with a static
// CommandRegistration; main() adds every registered command to the CLI11 app. A command's callback
// throws lutnet::Error on failure; main catches it once, prints one line and exits non-zero.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace lutnet::cli {

struct CommandEntry {
  int order;  // position in `lutnet --help`
  std::function<void(CLI::App&)> add;
};

std::vector<CommandEntry>& command_registry();

struct CommandRegistration {
  CommandRegistration(int order, std::function<void(CLI::App&)> add) {
    command_registry().push_back({order, std::move(add)});
  }
};

}  // namespace lutnet::cli
