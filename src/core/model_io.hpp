#pragma once
// Reading and writing model files (JSON, docs/model-format.md). Writing is deterministic: the same
// Model gives the same bytes. Reading validates everything; any defect is a lutnet::Error that
// names the file and the field.
#include <filesystem>
#include <string>

#include "core/model.hpp"

namespace lutnet {

std::string model_to_json(const Model& model);
Model model_from_json(const std::string& text, const std::string& source_name);

void save_model(const Model& model, const std::filesystem::path& path);  // atomic
Model load_model(const std::filesystem::path& path);

}  // namespace lutnet
