// Small helpers shared by the subcommands.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace pastiche::cli {

// "a,b, c" -> {"a","b","c"}; empty items are dropped.
std::vector<std::string> split_list(const std::string& text);
// "0.5,1" -> {0.5, 1}; InputError naming `field` on a bad number.
std::vector<double> parse_numbers(const std::string& text, const std::string& field);
// Throws InputError unless the path ends in an image extension we can write.
void require_writable_image_path(const std::string& path, const std::string& field = "output");
// Prints one JSON object on stdout (the --json contract).
void print_json(const nlohmann::json& object);
// Resolves the VGG weights path: the flag value, else default_vgg_weights_path(); InputError
// with instructions when none is found.
std::string resolve_vgg_path(const std::string& flag_value);

}  // namespace pastiche::cli
