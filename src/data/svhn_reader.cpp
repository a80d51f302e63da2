// SVHN "cropped digits" (train_32x32.mat, test_32x32.mat, extra_32x32.mat): MATLAB files with X,
// uint8 32x32x3xN in column-major order X(row, col, channel, image), and y, N labels 1..10 where
// 10 stands for the digit 0. Read with libmatio, which handles MAT v5 (compressed or not) and v7.3.
#include <fmt/format.h>
#include <matio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <utility>

#include "core/error.hpp"
#include "data/dataset.hpp"

namespace lutnet {
namespace {

namespace fs = std::filesystem;

constexpr size_t kSide = 32;
constexpr size_t kChannels = 3;
constexpr size_t kPlane = kSide * kSide;
constexpr size_t kImageBytes = kChannels * kPlane;
constexpr int kClasses = 10;

// Close the file and free variables on every path out, including throws.
struct MatCloser {
  void operator()(mat_t* mat) const { Mat_Close(mat); }
};
struct MatVarFreer {
  void operator()(matvar_t* var) const { Mat_VarFree(var); }
};
using MatFile = std::unique_ptr<mat_t, MatCloser>;
using MatVar = std::unique_ptr<matvar_t, MatVarFreer>;

uint32_t load_u32(const unsigned char* bytes, bool swap) {
  uint32_t x = 0;
  for (int i = 0; i < 4; ++i) x |= static_cast<uint32_t>(bytes[swap ? 3 - i : i]) << (8 * i);
  return x;
}

// matio reads a cut-off v5 file without complaint, and a half-downloaded extra_32x32.mat is easy
// to get. So walk the top-level element tags after the 128-byte header and check that each element
// fits in the file.
void check_mat5_complete(const fs::path& path) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) throw Error(path.string() + ": cannot read its size (" + ec.message() + ")");
  std::ifstream in(path, std::ios::binary);
  unsigned char header[128];
  if (!in.read(reinterpret_cast<char*>(header), sizeof header))
    throw Error(path.string() + ": truncated: shorter than a MAT v5 header");
  const bool swap = header[126] == 'M';  // "MI" here: a big-endian file
  constexpr uint32_t kCompressed = 15;   // miCOMPRESSED, the one element type without padding
  uintmax_t pos = sizeof header;
  while (pos < size) {
    unsigned char tag[8];
    in.seekg(static_cast<std::streamoff>(pos));
    if (size - pos < sizeof tag || !in.read(reinterpret_cast<char*>(tag), sizeof tag))
      throw Error(
          fmt::format("{}: truncated: {} stray bytes at the end", path.string(), size - pos));
    const uint32_t type = load_u32(tag, swap);
    // A small element packs its byte count into the type word and holds 4 bytes inline.
    const uintmax_t bytes = (type >> 16) != 0 ? 0 : load_u32(tag + 4, swap);
    if (bytes > size - pos - sizeof tag)
      throw Error(fmt::format("{}: truncated: an element at byte {} needs {} bytes, only {} remain",
                              path.string(), pos, sizeof tag + bytes, size - pos));
    pos += sizeof tag + bytes;
    if (type != kCompressed) pos = std::min<uintmax_t>((pos + 7) / 8 * 8, size);
  }
}

MatFile open_mat(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path.string() + ": file not found");
  if (fs::is_directory(path, ec)) throw Error(path.string() + ": is a directory, expected a file");
  // Checked here because matio would report an unreadable file as not a MAT file.
  if (!std::ifstream(path, std::ios::binary))
    throw Error(path.string() + ": cannot open (" + std::strerror(errno) + ")");
  MatFile mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  // matio takes any file it cannot place (an empty one, for one) for a headerless v4 file, and v4
  // holds only 2-D matrices, so it could never hold X.
  if (!mat || Mat_GetVersion(mat.get()) == MAT_FT_MAT4)
    throw Error(path.string() + ": not a MATLAB MAT file (v5 or v7.3)");
  if (Mat_GetVersion(mat.get()) == MAT_FT_MAT5) check_mat5_complete(path);
  return mat;
}

MatVar read_info(mat_t* mat, const fs::path& path, const char* name, const char* expected) {
  MatVar var(Mat_VarReadInfo(mat, name));
  if (!var)
    throw Error(fmt::format("{}: no variable {} (expected {})", path.string(), name, expected));
  return var;
}

std::string dims_text(const matvar_t& var) {
  std::string text;
  for (int d = 0; d < var.rank; ++d) {
    if (d > 0) text += 'x';
    text += std::to_string(var.dims[d]);
  }
  return text.empty() ? "none" : text;
}

const char* class_text(matio_classes c) {
  switch (c) {
    case MAT_C_EMPTY:
      return "empty";
    case MAT_C_CELL:
      return "a cell array";
    case MAT_C_STRUCT:
      return "a struct";
    case MAT_C_OBJECT:
      return "an object";
    case MAT_C_CHAR:
      return "char";
    case MAT_C_SPARSE:
      return "sparse";
    case MAT_C_DOUBLE:
      return "double";
    case MAT_C_SINGLE:
      return "single";
    case MAT_C_INT8:
      return "int8";
    case MAT_C_UINT8:
      return "uint8";
    case MAT_C_INT16:
      return "int16";
    case MAT_C_UINT16:
      return "uint16";
    case MAT_C_INT32:
      return "int32";
    case MAT_C_UINT32:
      return "uint32";
    case MAT_C_INT64:
      return "int64";
    case MAT_C_UINT64:
      return "uint64";
    default:
      return "an unsupported class";
  }
}

// Checks X's header and returns its image count. MATLAB drops a trailing singleton dimension, so
// a file with one image has X of dims 32x32x3.
size_t check_images_header(const fs::path& path, const matvar_t& x) {
  const bool dims_ok = (x.rank == 3 || x.rank == 4) && x.dims[0] == kSide && x.dims[1] == kSide &&
                       x.dims[2] == kChannels;
  if (!dims_ok)
    throw Error(fmt::format("{}: X has dims {}, expected 32x32x3xN", path.string(), dims_text(x)));
  if (x.class_type != MAT_C_UINT8 || x.isComplex)
    throw Error(fmt::format("{}: X is {}{}, expected uint8", path.string(),
                            x.isComplex ? "complex " : "", class_text(x.class_type)));
  const size_t count = x.rank == 4 ? x.dims[3] : 1;
  // matio's hyperslab reader takes int extents.
  if (count > static_cast<size_t>(INT_MAX))
    throw Error(
        fmt::format("{}: X holds {} images, more than this reader supports", path.string(), count));
  return count;
}

template <typename T>
std::vector<double> as_doubles(const matvar_t& var, size_t count) {
  const T* values = static_cast<const T*>(var.data);
  std::vector<double> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = static_cast<double>(values[i]);
  return out;
}

// y's values as doubles, whatever real numeric class it is stored as (SVHN ships double).
std::vector<double> label_values(const fs::path& path, const matvar_t& y, size_t count) {
  if (y.isComplex)
    throw Error(fmt::format("{}: y is complex, expected real labels", path.string()));
  switch (y.class_type) {
    case MAT_C_DOUBLE:
      return as_doubles<double>(y, count);
    case MAT_C_SINGLE:
      return as_doubles<float>(y, count);
    case MAT_C_INT8:
      return as_doubles<int8_t>(y, count);
    case MAT_C_UINT8:
      return as_doubles<uint8_t>(y, count);
    case MAT_C_INT16:
      return as_doubles<int16_t>(y, count);
    case MAT_C_UINT16:
      return as_doubles<uint16_t>(y, count);
    case MAT_C_INT32:
      return as_doubles<int32_t>(y, count);
    case MAT_C_UINT32:
      return as_doubles<uint32_t>(y, count);
    case MAT_C_INT64:
      return as_doubles<int64_t>(y, count);
    case MAT_C_UINT64:
      return as_doubles<uint64_t>(y, count);
    default:
      throw Error(fmt::format("{}: y is {}, expected numeric labels (double or uint8)",
                              path.string(), class_text(y.class_type)));
  }
}

// Reads y and appends its labels, 10 mapped to 0, after checking it has one label per image.
void append_labels(mat_t* mat, const fs::path& path, size_t count, Dataset& data) {
  read_info(mat, path, "y", "SVHN's y, N labels 1..10");  // a clear error before a full read
  MatVar y(Mat_VarRead(mat, "y"));
  if (!y) throw Error(fmt::format("{}: cannot read variable y (corrupt file)", path.string()));
  if (y->rank != 2 || (y->dims[0] != 1 && y->dims[1] != 1))
    throw Error(fmt::format("{}: y has dims {}, expected Nx1", path.string(), dims_text(*y)));
  const size_t labels = y->dims[0] * y->dims[1];
  if (labels != count)
    throw Error(
        fmt::format("{}: y holds {} labels but X holds {} images", path.string(), labels, count));
  if (count > 0 && y->data == nullptr)
    throw Error(fmt::format("{}: cannot read variable y (corrupt file)", path.string()));
  const std::vector<double> values = label_values(path, *y, count);
  data.labels.reserve(data.labels.size() + count);
  for (size_t i = 0; i < count; ++i) {
    const double v = values[i];
    if (!(v >= 1 && v <= kClasses && v == std::floor(v)))
      throw Error(fmt::format("{}: label {} of image {} is out of range 1..{}", path.string(), v, i,
                              kClasses));
    data.labels.push_back(static_cast<uint8_t>(static_cast<int>(v) % kClasses));
  }
}

// Reads X straight into the tail of data.pixels, then transposes every 32x32 plane in place:
// column-major X stores each channel plane column by column, lutnet wants it row by row.
void append_images(mat_t* mat, const fs::path& path, matvar_t& x, size_t count, Dataset& data) {
  if (count == 0) return;
  const size_t first = data.pixels.size();
  data.pixels.resize(first + count * kImageBytes);
  int start[4] = {0, 0, 0, 0};
  int stride[4] = {1, 1, 1, 1};
  int edge[4] = {kSide, kSide, kChannels, static_cast<int>(count)};
  if (Mat_VarReadData(mat, &x, data.pixels.data() + first, start, stride, edge) != 0)
    throw Error(fmt::format("{}: cannot read X (truncated or corrupt file)", path.string()));
  for (size_t p = 0; p < count * kChannels; ++p) {
    uint8_t* plane = data.pixels.data() + first + p * kPlane;
    for (size_t row = 0; row < kSide; ++row)
      for (size_t col = row + 1; col < kSide; ++col)
        std::swap(plane[row * kSide + col], plane[col * kSide + row]);
  }
}

}  // namespace

Dataset read_svhn_mat(const std::vector<fs::path>& files) {
  if (files.empty()) throw Error("SVHN: no .mat files given");
  Dataset data;
  data.name = "svhn";
  data.shape = {static_cast<int>(kChannels), static_cast<int>(kSide), static_cast<int>(kSide)};
  data.num_classes = kClasses;
  for (const auto& path : files) {
    const MatFile mat = open_mat(path);
    const MatVar x = read_info(mat.get(), path, "X", "SVHN's X, uint8 32x32x3xN");
    const size_t count = check_images_header(path, *x);
    append_labels(mat.get(), path, count, data);  // labels first: their checks are cheap
    append_images(mat.get(), path, *x, count, data);
  }
  return data;
}

}  // namespace lutnet
