// Whole-file reads and atomic replacements, for the image stores that keep bytes in files.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace pastiche {

// Writes `bytes` beside `path` and renames it over `path` (creating the parent directories), so
// readers see the old file or the new one, never a part. std::runtime_error when it cannot.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// The file's bytes, or nothing when it cannot be opened.
std::optional<std::string> read_whole_file(const std::filesystem::path& path);

}  // namespace pastiche
