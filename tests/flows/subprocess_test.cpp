// The subprocess helper: tools found on PATH, failures named with command and log, work dirs.
#include "flows/subprocess.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "core/error.hpp"
#include "flows_test_util.hpp"

namespace lutnet::flows {
namespace {

using ::testing::HasSubstr;

TEST(Subprocess, FindsProgramsOnPath) {
  EXPECT_FALSE(find_program("sh").empty());
  EXPECT_TRUE(find_program("lutnet-no-such-tool").empty());
  try {
    require_program("lutnet-no-such-tool", "install it from the moon");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "lutnet-no-such-tool not found on PATH: install it from the moon");
  }
}

TEST(Subprocess, FailureNamesCommandStatusAndLog) {
  WorkDir dir({}, false, "lutnet-test");
  const auto log = dir.path() / "step.log";
  try {
    run_command(
        {{"sh", "-c", "echo working; echo 'ERROR: out of coffee' >&2; exit 3"}, dir.path(), log});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_THAT(msg, HasSubstr("exited with status 3"));
    EXPECT_THAT(msg, HasSubstr("sh -c"));
    EXPECT_THAT(msg, HasSubstr(log.string()));
    EXPECT_THAT(msg, HasSubstr("ERROR: out of coffee"));
  }
  std::ifstream in(log);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "working");
}

TEST(Subprocess, RunsInParallelAndReportsTheFirstFailure) {
  WorkDir dir({}, false, "lutnet-test");
  std::vector<Command> commands;
  for (int i = 0; i < 4; ++i)
    commands.push_back({{"sh", "-c", i == 2 ? "exit 5" : "sleep 0.2"},
                        dir.path(),
                        dir.path() / fmt::format("c{}.log", i)});
  try {
    run_commands(commands, 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("c2.log"));
  }
  commands[2].argv = {"sh", "-c", "true"};
  const auto seconds = run_commands(commands, 4);
  ASSERT_EQ(seconds.size(), 4u);
  EXPECT_GT(seconds[0], 0.1);
}

TEST(Subprocess, ProgressSeesEveryCommandEndAndTheRunningOnes) {
  WorkDir dir({}, false, "lutnet-test");
  std::vector<Command> commands;
  for (const char* pause : {"0", "0.3", "0.6"})
    commands.push_back({{"sleep", pause}, dir.path(), dir.path() / fmt::format("{}.log", pause)});
  std::vector<BatchProgress> seen;
  run_commands(
      commands, 2, [&](const BatchProgress& p) { seen.push_back(p); }, 0.1);
  ASSERT_GE(seen.size(), 4u);  // three ends and at least one periodic line
  size_t ends = 0;
  for (size_t i = 0; i < seen.size(); ++i) {
    const auto done = std::count(seen[i].finished.begin(), seen[i].finished.end(), true);
    EXPECT_LE(seen[i].running.size(), 2u);
    EXPECT_LE(done + static_cast<long>(seen[i].running.size()), 3);
    if (i > 0) {
      EXPECT_GE(done, std::count(seen[i - 1].finished.begin(), seen[i - 1].finished.end(), true));
      EXPECT_GE(seen[i].seconds, seen[i - 1].seconds);
    }
    ends = static_cast<size_t>(done);
  }
  EXPECT_EQ(ends, 3u);
  EXPECT_TRUE(seen.back().running.empty());
}

TEST(Subprocess, MissingProgramIsAnError) {
  WorkDir dir({}, false, "lutnet-test");
  EXPECT_THROW(run_command({{"lutnet-no-such-tool"}, dir.path(), dir.path() / "x.log"}), Error);
}

TEST(Subprocess, TemporaryWorkDirIsRemovedUnlessKept) {
  std::filesystem::path gone, kept;
  {
    WorkDir a({}, false, "lutnet-test");
    gone = a.path();
    EXPECT_TRUE(std::filesystem::is_directory(gone));
    WorkDir b({}, true, "lutnet-test");
    kept = b.path();
  }
  EXPECT_FALSE(std::filesystem::exists(gone));
  EXPECT_TRUE(std::filesystem::is_directory(kept));
  std::filesystem::remove_all(kept);
}

}  // namespace
}  // namespace lutnet::flows
