// IDX files (MNIST, Fashion-MNIST): a 4-byte magic, big-endian uint32 dimensions, then raw bytes.
// Files may be plain or gzip; the content decides, not the name, because downloads get renamed.
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "data/dataset.hpp"

namespace lutnet {
namespace {

constexpr uint32_t kIdxImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension

// Sequential bytes of a plain or gzip file; every failure is an Error naming the file.
class ByteSource {
 public:
  explicit ByteSource(const std::filesystem::path& path) : name_(path.string()) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw Error(name_ + ": file not found");
    if (std::filesystem::is_directory(path, ec))
      throw Error(name_ + ": is a directory, expected a file");
    gzipped_ = starts_with_gzip_magic(path);
    if (gzipped_) {
      gz_ = gzopen(name_.c_str(), "rb");
      if (gz_ == nullptr) throw Error(name_ + ": cannot open (" + std::strerror(errno) + ")");
    } else {
      plain_ = std::fopen(name_.c_str(), "rb");
      if (plain_ == nullptr) throw Error(name_ + ": cannot open (" + std::strerror(errno) + ")");
    }
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;
  ~ByteSource() {
    if (gz_ != nullptr) gzclose(gz_);
    if (plain_ != nullptr) std::fclose(plain_);
  }

  const std::string& name() const { return name_; }

  // Reads up to `count` bytes; fewer only at the end of the data.
  size_t read(uint8_t* out, size_t count) {
    size_t done = 0;
    while (done < count) {
      const size_t chunk = std::min<size_t>(count - done, size_t{1} << 30);
      size_t got = 0;
      if (gzipped_) {
        const int n = gzread(gz_, out + done, static_cast<unsigned>(chunk));
        if (n < 0) fail_gzip();
        got = static_cast<size_t>(n);
        // A gzip stream that simply stops is corrupt, not a short IDX file: zlib reports it here.
        if (got < chunk) check_gzip_end();
      } else {
        got = std::fread(out + done, 1, chunk, plain_);
        if (got < chunk && std::ferror(plain_))
          throw Error(name_ + ": read error (" + std::strerror(errno) + ")");
      }
      done += got;
      if (got < chunk) break;
    }
    return done;
  }

 private:
  static bool starts_with_gzip_magic(const std::filesystem::path& path) {
    std::FILE* f = std::fopen(path.string().c_str(), "rb");
    if (f == nullptr) return false;  // the real open reports the error
    std::array<unsigned char, 2> magic{};
    const size_t n = std::fread(magic.data(), 1, magic.size(), f);
    std::fclose(f);
    return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  }

  [[noreturn]] void fail_gzip() {
    int code = Z_OK;
    const char* message = gzerror(gz_, &code);
    throw Error(fmt::format("{}: gzip data is corrupt ({})", name_,
                            message != nullptr && *message != '\0' ? message : "zlib error"));
  }

  void check_gzip_end() {
    int code = Z_OK;
    gzerror(gz_, &code);
    if (code != Z_OK) fail_gzip();
  }

  std::string name_;
  bool gzipped_ = false;
  gzFile gz_ = nullptr;
  std::FILE* plain_ = nullptr;
};

uint32_t big_endian_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string what_magic_means(uint32_t magic) {
  return magic == kIdxImagesMagic ? "IDX images" : magic == kIdxLabelsMagic ? "IDX labels" : "";
}

// Reads the magic and the dimensions; returns them after checking the magic.
std::vector<uint32_t> read_idx_header(ByteSource& source, uint32_t expected_magic,
                                      size_t num_dims) {
  std::vector<uint8_t> header(4 + 4 * num_dims);
  const size_t got = source.read(header.data(), 4);
  if (got < 4)
    throw Error(fmt::format("{}: truncated: expected at least {} bytes, found {}", source.name(),
                            header.size(), got));
  const uint32_t magic = big_endian_u32(header.data());
  if (magic != expected_magic) {
    const std::string found_means = what_magic_means(magic);
    throw Error(fmt::format("{}: wrong magic: expected 0x{:08x} ({}), found 0x{:08x}{}",
                            source.name(), expected_magic, what_magic_means(expected_magic), magic,
                            found_means.empty() ? "" : " (" + found_means + ")"));
  }
  const size_t rest = source.read(header.data() + 4, header.size() - 4);
  if (rest < header.size() - 4)
    throw Error(fmt::format("{}: truncated: expected at least {} bytes, found {}", source.name(),
                            header.size(), 4 + rest));
  std::vector<uint32_t> dims(num_dims);
  for (size_t d = 0; d < num_dims; ++d) dims[d] = big_endian_u32(header.data() + 4 + 4 * d);
  return dims;
}

// Reads exactly `count` payload bytes after a header of `header_bytes`; grows the buffer as data
// arrives so that a corrupt header claiming terabytes fails as truncated instead of allocating.
std::vector<uint8_t> read_payload(ByteSource& source, uint64_t count, size_t header_bytes,
                                  const std::string& header_says) {
  constexpr size_t kChunk = size_t{1} << 22;
  std::vector<uint8_t> data;
  while (data.size() < count) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(count - data.size(), kChunk));
    const size_t old_size = data.size();
    data.resize(old_size + want);
    const size_t got = source.read(data.data() + old_size, want);
    data.resize(old_size + got);
    if (got < want)
      throw Error(fmt::format("{}: truncated: expected {} bytes ({}), found {}", source.name(),
                              count + header_bytes, header_says, data.size() + header_bytes));
  }
  uint8_t extra = 0;
  if (source.read(&extra, 1) != 0)
    throw Error(fmt::format("{}: unexpected data after the {} bytes that the header announces ({})",
                            source.name(), count + header_bytes, header_says));
  return data;
}

}  // namespace

Dataset read_idx_dataset(const std::filesystem::path& images, const std::filesystem::path& labels,
                         int num_classes) {
  if (num_classes < 1 || num_classes > 256)
    throw Error(
        fmt::format("{}: num_classes = {} is out of range 1..256", labels.string(), num_classes));
  Dataset data;
  data.name = images.filename().string();
  data.num_classes = num_classes;

  ByteSource image_source(images);
  const std::vector<uint32_t> image_dims = read_idx_header(image_source, kIdxImagesMagic, 3);
  const uint32_t num_images = image_dims[0];
  const uint32_t rows = image_dims[1];
  const uint32_t cols = image_dims[2];
  if (rows == 0 || cols == 0 || rows > 65536 || cols > 65536 ||
      uint64_t{rows} * cols > (uint64_t{1} << 24))
    throw Error(
        fmt::format("{}: implausible image size {}x{} in the header", images.string(), rows, cols));
  data.shape = {1, static_cast<int>(rows), static_cast<int>(cols)};
  data.pixels = read_payload(image_source, uint64_t{num_images} * rows * cols, 16,
                             fmt::format("{} images of {}x{}", num_images, rows, cols));

  ByteSource label_source(labels);
  const uint32_t num_labels = read_idx_header(label_source, kIdxLabelsMagic, 1)[0];
  if (num_labels != num_images)
    throw Error(fmt::format("{}: has {} labels but {} has {} images", labels.string(), num_labels,
                            images.string(), num_images));
  data.labels = read_payload(label_source, num_labels, 8, fmt::format("{} labels", num_labels));
  for (size_t i = 0; i < data.labels.size(); ++i)
    if (data.labels[i] >= num_classes)
      throw Error(fmt::format("{}: label {} at index {} is out of range 0..{}", labels.string(),
                              data.labels[i], i, num_classes - 1));
  return data;
}

}  // namespace lutnet
