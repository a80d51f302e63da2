// write_file_atomically: all or nothing, and errors that name the path.
#include "core/atomic_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core_test_util.hpp"

namespace lutnet {
namespace {

namespace fs = std::filesystem;
using test::error_message;
using ::testing::HasSubstr;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "lutnet-atomic-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::permissions(dir_, fs::perms::owner_all, ignored);
    fs::remove_all(dir_, ignored);
  }
  static std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  size_t entries() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }
  fs::path dir_;
};

TEST_F(AtomicFileTest, WritesAndReplaces) {
  const fs::path path = dir_ / "model.json";
  write_file_atomically(path, "first");
  EXPECT_EQ(read(path), "first");
  write_file_atomically(path, [](std::ostream& out) { out << "second"; });
  EXPECT_EQ(read(path), "second");
  EXPECT_EQ(entries(), 1u);  // no temporary left beside it
}

TEST_F(AtomicFileTest, ThrowingWriterLeavesNoFile) {
  const fs::path path = dir_ / "model.json";
  EXPECT_THROW(write_file_atomically(path,
                                     [](std::ostream& out) {
                                       out << "partial";
                                       throw std::runtime_error("writer failed");
                                     }),
               std::runtime_error);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(entries(), 0u);
}

TEST_F(AtomicFileTest, ThrowingWriterKeepsThePreviousFile) {
  const fs::path path = dir_ / "model.json";
  write_file_atomically(path, "good");
  EXPECT_THROW(write_file_atomically(path,
                                     [](std::ostream& out) {
                                       out << "bad";
                                       throw Error("writer failed");
                                     }),
               Error);
  EXPECT_EQ(read(path), "good");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFileTest, MissingDirectoryNamesThePath) {
  const fs::path path = dir_ / "no-such-dir" / "model.json";
  EXPECT_THAT(error_message([&] { write_file_atomically(path, "x"); }), HasSubstr(path.string()));
  // A regular file where a directory should be.
  write_file_atomically(dir_ / "file", "x");
  const fs::path under_file = dir_ / "file" / "model.json";
  EXPECT_THAT(error_message([&] { write_file_atomically(under_file, "x"); }),
              HasSubstr(under_file.string()));
}

TEST_F(AtomicFileTest, UnwritableDirectoryNamesThePath) {
  fs::path path;
  if (geteuid() != 0) {
    fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
    path = dir_ / "model.json";
  } else if (fs::is_directory("/proc/self")) {
    // Root writes into read-only directories; /proc refuses new files even to root.
    path = "/proc/self/lutnet-model.json";
  } else {
    GTEST_SKIP() << "running as root without /proc: no directory here is unwritable";
  }
  EXPECT_THAT(error_message([&] { write_file_atomically(path, "x"); }), HasSubstr(path.string()));
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(AtomicFileTest, TargetIsADirectory) {
  fs::create_directory(dir_ / "taken");
  EXPECT_THAT(error_message([&] { write_file_atomically(dir_ / "taken", "x"); }),
              HasSubstr((dir_ / "taken").string()));
  EXPECT_TRUE(fs::is_directory(dir_ / "taken"));
  EXPECT_EQ(entries(), 1u);
}

}  // namespace
}  // namespace lutnet
