#include "core/model_io.hpp"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/read_file.hpp"
#include "core/tiling.hpp"

namespace lutnet {

using nlohmann::json;

namespace {

int table_hex_digits(int k) { return k <= 2 ? 1 : (1 << k) / 4; }

std::string table_to_hex(uint64_t table, int k) {
  return fmt::format("{:0{}x}", table, table_hex_digits(k));
}

// A string from the file, fit for a one-line message: control bytes escaped, long text cut short.
std::string printable(const std::string& text) {
  constexpr size_t kMaxShown = 40;
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    // Cut only before a character's first byte, so UTF-8 stays whole.
    if (out.size() >= kMaxShown && (c < 0x80 || c >= 0xc0)) return out + "...";
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += ch;
  }
  return out;
}

const char* output_name(LayerOutput output) {
  return output == LayerOutput::kArgmax ? "argmax" : "residual_sign";
}

// Field access with messages that say where the defect is.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw Error(fmt::format("{}: {}: {}", source_, where, what));
  }

  const json& field(const json& object, const char* key, const std::string& where) const {
    if (!object.is_object()) fail(where, "expected an object");
    auto it = object.find(key);
    if (it == object.end()) fail(where, fmt::format("missing field '{}'", key));
    return *it;
  }

  template <typename T>
  T integer(const json& object, const char* key, const std::string& where, int64_t lo,
            int64_t hi) const {
    const json& v = field(object, key, where);
    if (!v.is_number_integer()) fail(where, fmt::format("'{}' must be an integer", key));
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi)
      fail(where, fmt::format("'{}' = {} is out of range {}..{}", key, x, lo, hi));
    return static_cast<T>(x);
  }

  template <typename T>
  std::vector<T> integers(const json& object, const char* key, const std::string& where, int64_t lo,
                          int64_t hi) const {
    const json& v = field(object, key, where);
    if (!v.is_array()) fail(where, fmt::format("'{}' must be an array", key));
    std::vector<T> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number_integer())
        fail(where, fmt::format("'{}'[{}] must be an integer", key, i));
      const int64_t x = v[i].is_number_unsigned() && v[i].get<uint64_t>() > INT64_MAX
                            ? INT64_MAX
                            : v[i].get<int64_t>();
      if (x < lo || x > hi)
        fail(where, fmt::format("'{}'[{}] = {} is out of range {}..{}", key, i, x, lo, hi));
      out.push_back(static_cast<T>(x));
    }
    return out;
  }

  std::string string(const json& object, const char* key, const std::string& where) const {
    const json& v = field(object, key, where);
    if (!v.is_string()) fail(where, fmt::format("'{}' must be a string", key));
    return v.get<std::string>();
  }

 private:
  std::string source_;
};

uint64_t parse_table(const Reader& r, const std::string& hex, int k, const std::string& where,
                     size_t index) {
  if (hex.size() != static_cast<size_t>(table_hex_digits(k)))
    r.fail(where, fmt::format("tables[{}] = \"{}\" must have {} hex digits for k = {}", index,
                              printable(hex), table_hex_digits(k), k));
  uint64_t value = 0;
  for (char c : hex) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else
      r.fail(where,
             fmt::format("tables[{}] = \"{}\" is not lower-case hex", index, printable(hex)));
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  return value;
}

std::vector<uint64_t> parse_tables(const Reader& r, const json& j, int k,
                                   const std::string& where) {
  const json& tables = r.field(j, "tables", where);
  if (!tables.is_array()) r.fail(where, "'tables' must be an array");
  std::vector<uint64_t> out;
  out.reserve(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) {
    if (!tables[i].is_string()) r.fail(where, fmt::format("tables[{}] must be a string", i));
    out.push_back(parse_table(r, tables[i].get_ref<const std::string&>(), k, where, i));
  }
  return out;
}

// An array of `count` strings of `length` characters each, every character a digit below
// `radix` (16 at most): the digits, row after row.
std::vector<uint8_t> parse_digit_rows(const Reader& r, const json& j, const char* key,
                                      const std::string& where, size_t count, size_t length,
                                      int radix) {
  const json& rows = r.field(j, key, where);
  if (!rows.is_array() || rows.size() != count)
    r.fail(where, fmt::format("'{}' must be an array of {} strings", key, count));
  std::vector<uint8_t> out;
  out.reserve(count * length);
  for (size_t row = 0; row < count; ++row) {
    if (!rows[row].is_string()) r.fail(where, fmt::format("{}[{}] must be a string", key, row));
    const std::string& text = rows[row].get_ref<const std::string&>();
    if (text.size() != length)
      r.fail(where, fmt::format("{}[{}] must have {} characters", key, row, length));
    for (const char c : text) {
      const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99;
      if (digit >= radix)
        r.fail(where, fmt::format("{}[{}] = \"{}\": '{}' is not a digit below {}", key, row,
                                  printable(text), printable(std::string(1, c)), radix));
      out.push_back(static_cast<uint8_t>(digit));
    }
  }
  return out;
}

// The "tiling" object of a tiled layer (version 3); the LUT fields are then its lowering.
void parse_tiling(const Reader& r, const json& j, const std::string& where, Layer& layer) {
  const std::string at = where + ": tiling";
  Tiling& t = layer.tiling;
  const auto tiles = r.integers<int>(j, "tiles", at, 1, 1 << 20);
  if (tiles.size() != 2) r.fail(at, "'tiles' must be [tm, tn]");
  t.tm = tiles[0];
  t.tn = tiles[1];
  t.k = r.integer<int>(j, "k", at, 2, kMaxLutInputs);
  t.n = r.integer<int>(j, "n", at, 1, 3);
  t.num_outputs = layer.num_outputs;
  t.num_inputs = layer.num_inputs;
  if (layer.num_outputs % t.tm != 0 || layer.num_inputs % t.tn != 0 || t.n >= t.k)
    r.fail(at, fmt::format("tiles {}x{} must divide {} outputs x {} inputs, and n < k", t.tm, t.tn,
                           layer.num_outputs, layer.num_inputs));
  t.mask = parse_digit_rows(r, j, "mask", at, t.tile_outputs(), t.tile_inputs(), 2);
  t.extra_inputs = r.integers<uint32_t>(j, "extra_inputs", at, 0, (1 << 28) - 1);
  t.tables = parse_tables(r, j, t.k, at);
  t.weight_bits =
      parse_digit_rows(r, j, "weight_bits", at, layer.num_outputs, layer.num_inputs, 1 << t.n);
  lower_tiling(layer, where);
}

// The LUT array fields shared by lut_dense and lut_conv2d (num_inputs and num_outputs are set
// by the caller).
void parse_luts(const Reader& r, const json& j, const std::string& where, Layer& layer,
                int version) {
  layer.input_levels = r.integer<int>(j, "input_levels", where, 1, kMaxLevels);
  const std::string output = r.string(j, "output", where);
  if (output == "residual_sign") {
    layer.output = LayerOutput::kResidualSign;
    layer.output_levels = r.integer<int>(j, "output_levels", where, 1, kMaxLevels);
  } else if (output == "argmax") {
    layer.output = LayerOutput::kArgmax;
    layer.output_levels = 0;
  } else {
    r.fail(where, fmt::format("unknown output '{}' (expected residual_sign or argmax)",
                              printable(output)));
  }
  layer.level_weights = r.integers<int64_t>(j, "level_weights", where, 1, (1 << 20) - 1);
  if (layer.output == LayerOutput::kResidualSign) {
    layer.output_sign = r.integers<int8_t>(j, "output_sign", where, -1, 1);
    layer.thresholds =
        r.integers<int64_t>(j, "thresholds", where, -(int64_t{1} << 52), int64_t{1} << 52);
  }
  if (version >= 3 && j.contains("tiling")) {
    parse_tiling(r, j["tiling"], where, layer);
    return;
  }
  layer.k = r.integer<int>(j, "k", where, 1, kMaxLutInputs);
  layer.conn_offset = r.integers<uint32_t>(j, "conn_offset", where, 0, 1 << 28);
  layer.lut_inputs = r.integers<uint32_t>(j, "lut_inputs", where, 0, (1 << 28) - 1);
  layer.tables = parse_tables(r, j, layer.k, where);
}

// "kernel" or "window": [height, width].
void parse_window(const Reader& r, const json& j, const char* key, const std::string& where,
                  Layer& layer) {
  const auto size = r.integers<int>(j, key, where, 1, 64);
  if (size.size() != 2) r.fail(where, fmt::format("'{}' must be [height, width]", key));
  layer.kernel_h = size[0];
  layer.kernel_w = size[1];
  layer.stride = r.integer<int>(j, "stride", where, 1, 64);
}

Layer parse_layer(const Reader& r, const json& j, const std::string& where, int version) {
  const std::string type = r.string(j, "type", where);
  Layer layer;
  if (type == "lut_dense") {
    layer.kind = LayerKind::kLutDense;
    layer.num_inputs = r.integer<int>(j, "num_inputs", where, 1, 1 << 28);
    layer.num_outputs = r.integer<int>(j, "num_outputs", where, 1, 1 << 24);
    parse_luts(r, j, where, layer, version);
  } else if (type == "lut_conv2d" && version >= 2) {
    layer.kind = LayerKind::kLutConv2d;
    const int in_channels = r.integer<int>(j, "in_channels", where, 1, 1 << 20);
    layer.num_outputs = r.integer<int>(j, "out_channels", where, 1, 1 << 24);
    parse_window(r, j, "kernel", where, layer);
    layer.num_inputs = in_channels * layer.kernel_h * layer.kernel_w;
    if (layer.num_inputs > (1 << 28)) r.fail(where, "the receptive window is too large");
    parse_luts(r, j, where, layer, version);
  } else if (type == "max_pool" && version >= 2) {
    layer.kind = LayerKind::kMaxPool;
    parse_window(r, j, "window", where, layer);
  } else {
    r.fail(where,
           fmt::format("unknown layer type '{}' (version {} reads {})", printable(type), version,
                       version >= 2 ? "'lut_dense', 'lut_conv2d' and 'max_pool'" : "'lut_dense'"));
  }
  return layer;
}

// The oldest version that can express the model: files of dense-only models stay version 1, so
// older readers still load them and their bytes do not change.
int required_version(const Model& model) {
  int version = 1;
  for (const auto& layer : model.layers) {
    if (layer.tiling.enabled()) return 3;
    if (layer.kind != LayerKind::kLutDense) version = 2;
  }
  return version;
}

// Digits below 16, `length` per row, as an array of strings.
json digit_rows(const std::vector<uint8_t>& digits, size_t length) {
  json rows = json::array();
  for (size_t start = 0; start < digits.size(); start += length) {
    std::string row(length, '0');
    for (size_t i = 0; i < length; ++i) row[i] = "0123456789abcdef"[digits[start + i] & 15];
    rows.push_back(std::move(row));
  }
  return rows;
}

void write_tiling(std::ostringstream& out, const Tiling& t) {
  json tables = json::array();
  for (uint64_t table : t.tables) tables.push_back(table_to_hex(table, t.k));
  out << "\"tiling\": {\"tiles\": [" << t.tm << "," << t.tn << "], \"k\": " << t.k
      << ", \"n\": " << t.n << ",\n";
  out << "\"mask\": " << digit_rows(t.mask, t.tile_inputs()).dump() << ",\n";
  out << "\"extra_inputs\": " << json(t.extra_inputs).dump() << ",\n";
  out << "\"tables\": " << tables.dump() << ",\n";
  out << "\"weight_bits\": " << digit_rows(t.weight_bits, t.num_inputs).dump() << "}\n";
}

void write_luts(std::ostringstream& out, const Layer& layer) {
  out << "\"input_levels\": " << layer.input_levels << ",\n";
  if (layer.kind == LayerKind::kLutDense) out << "\"num_outputs\": " << layer.num_outputs << ",\n";
  if (!layer.tiling.enabled()) out << "\"k\": " << layer.k << ",\n";
  out << "\"output\": \"" << output_name(layer.output) << "\",\n";
  if (layer.output == LayerOutput::kResidualSign)
    out << "\"output_levels\": " << layer.output_levels << ",\n";
  out << "\"level_weights\": " << json(layer.level_weights).dump() << ",\n";
  if (!layer.tiling.enabled()) {
    out << "\"conn_offset\": " << json(layer.conn_offset).dump() << ",\n";
    out << "\"lut_inputs\": " << json(layer.lut_inputs).dump() << ",\n";
  }
  if (layer.output == LayerOutput::kResidualSign) {
    out << "\"output_sign\": " << json(layer.output_sign).dump() << ",\n";
    out << "\"thresholds\": " << json(layer.thresholds).dump() << ",\n";
  }
  if (layer.tiling.enabled()) {
    write_tiling(out, layer.tiling);
    return;
  }
  json tables = json::array();
  for (uint64_t t : layer.tables) tables.push_back(table_to_hex(t, layer.k));
  out << "\"tables\": " << tables.dump() << "\n";
}

void write_layer(std::ostringstream& out, const Layer& layer) {
  out << "{\n";
  out << "\"type\": \"" << layer_kind_name(layer.kind) << "\",\n";
  switch (layer.kind) {
    case LayerKind::kLutDense:
      out << "\"num_inputs\": " << layer.num_inputs << ",\n";
      write_luts(out, layer);
      break;
    case LayerKind::kLutConv2d:
      out << "\"in_channels\": " << layer.num_inputs / (layer.kernel_h * layer.kernel_w) << ",\n";
      out << "\"out_channels\": " << layer.num_outputs << ",\n";
      out << "\"kernel\": [" << layer.kernel_h << "," << layer.kernel_w << "],\n";
      out << "\"stride\": " << layer.stride << ",\n";
      write_luts(out, layer);
      break;
    case LayerKind::kMaxPool:
      out << "\"window\": [" << layer.kernel_h << "," << layer.kernel_w << "],\n";
      out << "\"stride\": " << layer.stride << "\n";
      break;
  }
  out << "}";
}

}  // namespace

std::string model_to_json(const Model& model) {
  // One top-level field and one layer field per line: diffable, still compact for big arrays.
  std::ostringstream out;
  json input = {{"shape", model.input.shape},
                {"encoding", model.input.thresholds.size() == 1 ? "threshold" : "thermometer"},
                {"thresholds", model.input.thresholds}};
  out << "{\n";
  out << "\"format\": \"lutnet-model\",\n";
  out << "\"version\": " << required_version(model) << ",\n";
  out << "\"name\": " << json(model.name).dump() << ",\n";
  out << "\"input\": " << input.dump() << ",\n";
  out << "\"num_classes\": " << model.num_classes << ",\n";
  out << "\"layers\": [\n";
  for (size_t i = 0; i < model.layers.size(); ++i) {
    write_layer(out, model.layers[i]);
    out << (i + 1 < model.layers.size() ? ",\n" : "\n");
  }
  out << "],\n";
  json metadata = json::parse(model.metadata_json, nullptr, false);
  if (metadata.is_discarded()) metadata = json::object();
  out << "\"metadata\": " << metadata.dump() << "\n";
  out << "}\n";
  return out.str();
}

Model model_from_json(const std::string& text, const std::string& source_name) {
  Reader r(source_name);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(
        fmt::format("{}: not a valid model file: JSON error at byte {}", source_name, e.byte));
  } catch (const json::exception& e) {
    // E.g. a number too large for a double ("1e999"): nlohmann reports it as out_of_range.
    throw Error(fmt::format("{}: not a valid model file: JSON error ({})", source_name, e.what()));
  }
  if (!j.is_object()) r.fail("top level", "expected a JSON object");
  if (!j.contains("format") || j["format"] != "lutnet-model")
    r.fail("top level", "not a lutnet model file (missing \"format\": \"lutnet-model\")");
  const int version = r.integer<int>(j, "version", "top level", 0, 1 << 20);
  if (version < 1 || version > kModelFormatVersion)
    r.fail("top level", fmt::format("model format version {} is not supported (this build reads "
                                    "versions 1 to {})",
                                    version, kModelFormatVersion));
  Model model;
  model.name = r.string(j, "name", "top level");
  const json& input = r.field(j, "input", "top level");
  model.input.shape = r.integers<int>(input, "shape", "input", 1, 65536);
  model.input.thresholds = r.integers<uint8_t>(input, "thresholds", "input", 0, 255);
  model.num_classes = r.integer<int>(j, "num_classes", "top level", 1, 1 << 24);
  const json& layers = r.field(j, "layers", "top level");
  if (!layers.is_array()) r.fail("top level", "'layers' must be an array");
  for (size_t i = 0; i < layers.size(); ++i)
    model.layers.push_back(parse_layer(r, layers[i], fmt::format("layer {}", i), version));
  if (j.contains("metadata")) model.metadata_json = j["metadata"].dump();
  try {
    validate(model);
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", source_name, e.what()));
  }
  return model;
}

void save_model(const Model& model, const std::filesystem::path& path) {
  validate(model);
  write_file_atomically(path, model_to_json(model));
}

Model load_model(const std::filesystem::path& path) {
  return model_from_json(read_text_file(path, "model file"), path.string());
}

}  // namespace lutnet
