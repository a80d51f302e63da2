// Where each named dataset lives under a data directory, and what to tell the user when it does
// not.
#include <fmt/format.h>

#include <optional>

#include "core/error.hpp"
#include "data/dataset.hpp"

namespace lutnet {
namespace {

namespace fs = std::filesystem;

// Where Debian's dataset-fashion-mnist package installs its (gzip) files.
const fs::path kDebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct IdxPair {
  fs::path images;
  fs::path labels;
};

std::optional<fs::path> find_plain_or_gz(const fs::path& dir, const std::string& base) {
  std::error_code ec;
  for (const fs::path& candidate : {dir / base, dir / (base + ".gz")})
    if (fs::is_regular_file(candidate, ec)) return candidate;
  return std::nullopt;
}

// The first directory that holds both files of `part`.
std::optional<IdxPair> find_idx_pair(const std::vector<fs::path>& dirs, DatasetPart part) {
  const std::string prefix = part == DatasetPart::kTrain ? "train" : "t10k";
  for (const auto& dir : dirs) {
    auto images = find_plain_or_gz(dir, prefix + "-images-idx3-ubyte");
    auto labels = find_plain_or_gz(dir, prefix + "-labels-idx1-ubyte");
    if (images && labels) return IdxPair{*images, *labels};
  }
  return std::nullopt;
}

const char* part_name(DatasetPart part) { return part == DatasetPart::kTrain ? "train" : "test"; }

Dataset load_idx_named(const std::string& name, DatasetPart part,
                       const std::vector<fs::path>& dirs) {
  const auto pair = find_idx_pair(dirs, part);
  if (!pair) {
    const std::string prefix = part == DatasetPart::kTrain ? "train" : "t10k";
    std::string where =
        (dirs.front() / (prefix + "-{images-idx3,labels-idx1}-ubyte[.gz]")).string();
    for (size_t i = 1; i < dirs.size(); ++i) where += " or " + dirs[i].string() + "/";
    throw Error(fmt::format("{} {} set not found ({}); run scripts/fetch-data.sh {}", name,
                            part_name(part), where, name));
  }
  Dataset data = read_idx_dataset(pair->images, pair->labels, 10);
  data.name = name;
  return data;
}

Dataset load_cifar10(DatasetPart part, const fs::path& data_dir) {
  const fs::path dir = data_dir / "cifar10" / "cifar-10-batches-bin";
  std::vector<fs::path> files;
  if (part == DatasetPart::kTrain) {
    for (int b = 1; b <= 5; ++b) files.push_back(dir / fmt::format("data_batch_{}.bin", b));
  } else {
    files.push_back(dir / "test_batch.bin");
  }
  std::error_code ec;
  for (const auto& file : files)
    if (!fs::is_regular_file(file, ec))
      throw Error(fmt::format(
          "cifar10 {} set not found ({} is missing); no package registry ships CIFAR-10: download "
          "its binary version (cifar-10-binary.tar.gz) by hand and extract it into {}",
          part_name(part), file.string(), (data_dir / "cifar10").string()));
  return read_cifar10_batches(files);
}

// The train part adds extra_32x32.mat (531,131 more, easier images) only when it is present, so
// the standard train/test pair alone is enough.
Dataset load_svhn(DatasetPart part, const fs::path& data_dir) {
  const fs::path dir = data_dir / "svhn";
  std::error_code ec;
  std::vector<fs::path> files = {
      dir / (part == DatasetPart::kTrain ? "train_32x32.mat" : "test_32x32.mat")};
  if (!fs::is_regular_file(files.front(), ec))
    throw Error(fmt::format(
        "svhn {} set not found ({} is missing): put train_32x32.mat (and optionally "
        "extra_32x32.mat) and test_32x32.mat from http://ufldl.stanford.edu/housenumbers/ in {}/",
        part_name(part), files.front().string(), dir.string()));
  if (part == DatasetPart::kTrain && fs::is_regular_file(dir / "extra_32x32.mat", ec))
    files.push_back(dir / "extra_32x32.mat");
  return read_svhn_mat(files);
}

}  // namespace

Dataset load_named_dataset(const std::string& name, DatasetPart part, const fs::path& data_dir) {
  if (name == "mnist") return load_idx_named(name, part, {data_dir / "mnist"});
  if (name == "fashion-mnist")
    return load_idx_named(name, part, {data_dir / "fashion-mnist", kDebianFashionMnistDir});
  if (name == "cifar10") return load_cifar10(part, data_dir);
  if (name == "svhn") return load_svhn(part, data_dir);
  throw Error(
      fmt::format("unknown dataset '{}' (known: mnist, fashion-mnist, cifar10, svhn)", name));
}

}  // namespace lutnet
