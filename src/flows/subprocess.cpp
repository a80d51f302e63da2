#include "flows/subprocess.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "core/error.hpp"

namespace lutnet::flows {
namespace fs = std::filesystem;

fs::path find_program(const std::string& program) {
  if (program.find('/') != std::string::npos)
    return ::access(program.c_str(), X_OK) == 0 ? fs::path(program) : fs::path();
  const char* path = std::getenv("PATH");
  if (!path) return {};
  std::string dirs = path;
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = dirs.substr(start, end - start);
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return {};
}

fs::path require_program(const std::string& program, const std::string& hint) {
  fs::path p = find_program(program);
  if (p.empty()) throw Error(fmt::format("{} not found on PATH: {}", program, hint));
  return p;
}

std::string quote_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    const bool plain = !arg.empty() && arg.find_first_of(" \t\"'$\\;&|<>*?()") == std::string::npos;
    out += plain ? arg : "'" + arg + "'";
  }
  return out;
}

namespace {

// The last line of the log that looks like an error, to put the cause into a one-line message.
std::string last_error_line(const fs::path& log) {
  std::ifstream in(log);
  std::string line, found, last;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    last = line;
    if (line.find("ERROR") != std::string::npos || line.find("%Error") != std::string::npos ||
        line.find("error:") != std::string::npos)
      if (found.empty()) found = line;  // the first error is usually the cause
  }
  std::string s = found.empty() ? last : found;
  if (s.size() > 300) s = s.substr(0, 300) + "...";
  return s;
}

pid_t start(const Command& command) {
  const fs::path program = find_program(command.argv.at(0));
  if (program.empty())
    throw Error(fmt::format("{} not found on PATH (needed to run: {})", command.argv[0],
                            quote_command(command.argv)));
  std::vector<char*> argv;
  for (const auto& arg : command.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const std::string log = command.log.string();
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(fmt::format("{}: cannot write log ({})", log, std::strerror(errno)));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    throw Error(fmt::format("cannot start {}: {}", command.argv[0], std::strerror(errno)));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    if (!command.cwd.empty() && ::chdir(command.cwd.c_str()) != 0) ::_exit(126);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

std::optional<std::string> failure(const Command& command, int status) {
  std::string what;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  if (WIFEXITED(status))
    what = fmt::format("exited with status {}", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    what = fmt::format("was killed by signal {}", WTERMSIG(status));
  else
    what = "ended abnormally";
  std::string msg = fmt::format("{} {} (command: {}); log: {}", command.argv[0], what,
                                quote_command(command.argv), command.log.string());
  const std::string cause = last_error_line(command.log);
  if (!cause.empty()) msg += "; last error: " + cause;
  return msg;
}

}  // namespace

double run_command(const Command& command) { return run_commands({command}, 1).at(0); }

std::vector<double> run_commands(const std::vector<Command>& commands, int jobs,
                                 const BatchProgressFn& progress, double progress_every) {
  using Clock = std::chrono::steady_clock;
  jobs = std::max(1, jobs);
  std::vector<double> seconds(commands.size(), 0.0);
  std::vector<std::optional<std::string>> errors(commands.size());
  std::vector<std::pair<pid_t, size_t>> running;
  const auto batch_start = Clock::now();
  auto last_report = batch_start;
  BatchProgress state;
  state.finished.assign(commands.size(), false);
  auto report = [&] {
    if (!progress) return;
    last_report = Clock::now();
    state.seconds = std::chrono::duration<double>(last_report - batch_start).count();
    state.running.clear();
    for (const auto& r : running) state.running.push_back(r.second);
    progress(state);
  };
  std::vector<Clock::time_point> started(commands.size());
  size_t next = 0;
  std::optional<std::string> start_error;
  while (next < commands.size() || !running.empty()) {
    while (!start_error && next < commands.size() && static_cast<int>(running.size()) < jobs) {
      try {
        started[next] = Clock::now();
        running.emplace_back(start(commands[next]), next);
      } catch (const Error& e) {
        start_error = e.what();
      }
      ++next;
    }
    if (start_error) next = commands.size();  // start nothing more; wait for the rest
    if (running.empty()) break;
    // Waits for our own children only (never waitpid(-1)): other threads run commands too.
    int status = 0;
    pid_t pid = 0;
    size_t i = 0;
    for (;; i = (i + 1) % running.size()) {
      const bool block = running.size() == 1 && !progress;
      pid = ::waitpid(running[i].first, &status, block ? 0 : WNOHANG);
      if (pid < 0 && errno != EINTR)
        throw Error(fmt::format("waiting for a subprocess failed: {}", std::strerror(errno)));
      if (pid > 0) break;
      if (!block && i + 1 == running.size()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (progress &&
            std::chrono::duration<double>(Clock::now() - last_report).count() >= progress_every)
          report();
      }
    }
    const size_t index = running[i].second;
    seconds[index] = std::chrono::duration<double>(Clock::now() - started[index]).count();
    errors[index] = failure(commands[index], status);
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
    state.finished[index] = true;
    report();
  }
  for (const auto& e : errors)
    if (e) throw Error(*e);
  if (start_error) throw Error(*start_error);
  return seconds;
}

WorkDir::WorkDir(const fs::path& requested, bool keep, const std::string& prefix) {
  std::error_code ec;
  if (!requested.empty()) {
    path_ = requested;
    keep_ = true;
    fs::create_directories(path_, ec);
    if (ec || !fs::is_directory(path_))
      throw Error(fmt::format("{}: cannot create work directory ({})", path_.string(),
                              ec ? ec.message() : "not a directory"));
    return;
  }
  keep_ = keep;
  std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(pattern.data()))
    throw Error(fmt::format("cannot create a temporary work directory {}: {}", pattern,
                            std::strerror(errno)));
  path_ = pattern;
}

WorkDir::~WorkDir() {
  if (keep_) return;
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

}  // namespace lutnet::flows
