// CIFAR-10 binary batches: a sequence of records, each 1 label byte then 3x32x32 pixel bytes (CHW).
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/error.hpp"
#include "data/dataset.hpp"

namespace lutnet {
namespace {

constexpr int kCifarClasses = 10;
constexpr size_t kCifarImageBytes = 3 * 32 * 32;
constexpr size_t kCifarRecordBytes = 1 + kCifarImageBytes;

std::vector<uint8_t> read_whole_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path.string() + ": file not found");
  if (std::filesystem::is_directory(path, ec))
    throw Error(path.string() + ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open (" + std::strerror(errno) + ")");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(path.string() + ": read error");
  return bytes;
}

}  // namespace

Dataset read_cifar10_batches(const std::vector<std::filesystem::path>& batch_files) {
  if (batch_files.empty()) throw Error("CIFAR-10: no batch files given");
  Dataset data;
  data.name = "cifar10";
  data.shape = {3, 32, 32};
  data.num_classes = kCifarClasses;
  for (const auto& path : batch_files) {
    const std::vector<uint8_t> bytes = read_whole_file(path);
    const size_t records = bytes.size() / kCifarRecordBytes;
    if (bytes.empty() || bytes.size() % kCifarRecordBytes != 0)
      throw Error(
          fmt::format("{}: truncated: expected a multiple of {} bytes ({} records), found {} bytes",
                      path.string(), kCifarRecordBytes, records + 1, bytes.size()));
    data.pixels.reserve(data.pixels.size() + records * kCifarImageBytes);
    data.labels.reserve(data.labels.size() + records);
    for (size_t r = 0; r < records; ++r) {
      const uint8_t* record = bytes.data() + r * kCifarRecordBytes;
      if (record[0] >= kCifarClasses)
        throw Error(fmt::format("{}: label {} in record {} is out of range 0..{}", path.string(),
                                record[0], r, kCifarClasses - 1));
      data.labels.push_back(record[0]);
      data.pixels.insert(data.pixels.end(), record + 1, record + kCifarRecordBytes);
    }
  }
  return data;
}

}  // namespace lutnet
