#pragma once
// Helpers for data tests: a temporary directory that cleans up after itself and writers for small
// IDX / gzip / raw files.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace lutnet::test {

// The message of the lutnet::Error that `action` throws; a test failure when it throws none. Any
// other exception escapes, which gtest reports as a failure too.
template <typename Action>
std::string error_message(Action&& action) {
  try {
    action();
  } catch (const lutnet::Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "error is not one line: " << message;
    return message;
  }
  ADD_FAILURE() << "expected a lutnet::Error";
  return "";
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "lutnet-data-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void append_u32_be(std::vector<uint8_t>& out, uint32_t x) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(x >> shift));
}

inline std::vector<uint8_t> idx_images_bytes(uint32_t count, uint32_t rows, uint32_t cols,
                                             const std::vector<uint8_t>& pixels) {
  std::vector<uint8_t> out;
  append_u32_be(out, 0x00000803);
  append_u32_be(out, count);
  append_u32_be(out, rows);
  append_u32_be(out, cols);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

inline std::vector<uint8_t> idx_labels_bytes(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> out;
  append_u32_be(out, 0x00000801);
  append_u32_be(out, static_cast<uint32_t>(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

inline void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_gzip(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  gzFile gz = gzopen(path.string().c_str(), "wb");
  ASSERT_NE(gz, nullptr) << path;
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(gz), Z_OK);
}

// Pixels that identify their image: pixel j of image i is (i * 7 + j) mod 256.
inline std::vector<uint8_t> indexed_pixels(size_t count, size_t image_size) {
  std::vector<uint8_t> pixels(count * image_size);
  for (size_t i = 0; i < count; ++i)
    for (size_t j = 0; j < image_size; ++j)
      pixels[i * image_size + j] = static_cast<uint8_t>(i * 7 + j);
  return pixels;
}

}  // namespace lutnet::test
