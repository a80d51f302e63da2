#pragma once
// Running the external tools (Verilator, Yosys, make, the built simulator): find them on PATH,
// run them with output captured in a log file, and turn every failure into a lutnet::Error that
// names the command and the log.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace lutnet::flows {

// The full path of `program` on PATH, or an empty path.
std::filesystem::path find_program(const std::string& program);

// find_program, or throws lutnet::Error("<program> not found on PATH: <hint>").
std::filesystem::path require_program(const std::string& program, const std::string& hint);

struct Command {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH
  std::filesystem::path cwd;      // empty: the current directory
  std::filesystem::path log;      // stdout and stderr of the command (truncated first)
};

// Runs the command to completion. Throws lutnet::Error when it cannot start, is killed, or exits
// non-zero; the message names the command, the exit status, the log file and the log's last error
// line. Returns the wall time in seconds.
double run_command(const Command& command);

// Where a batch of commands stands: which have ended, which run, the seconds since the start.
struct BatchProgress {
  std::vector<bool> finished;
  std::vector<size_t> running;
  double seconds = 0;
};
using BatchProgressFn = std::function<void(const BatchProgress&)>;

// Runs the commands, at most `jobs` at a time; throws the first failure (in command order) after
// all have ended. Returns the wall time of each. `progress`, when set, is called as each command
// ends and every `progress_every` seconds between.
std::vector<double> run_commands(const std::vector<Command>& commands, int jobs,
                                 const BatchProgressFn& progress = {}, double progress_every = 30);

// A directory for generated files: the given path (created, kept), or a fresh temporary directory
// removed on destruction unless `keep`.
class WorkDir {
 public:
  WorkDir(const std::filesystem::path& requested, bool keep, const std::string& prefix);
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  bool kept() const { return keep_; }

 private:
  std::filesystem::path path_;
  bool keep_ = true;
};

std::string quote_command(const std::vector<std::string>& argv);

}  // namespace lutnet::flows
