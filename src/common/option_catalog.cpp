#include "common/option_catalog.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace pastiche {

namespace {

[[noreturn]] void reject_option(const std::string& field, const std::string& rule) {
  throw InputError(field + ": " + rule);
}

std::string range_rule(double lo, double hi, bool lo_open) {
  return std::string("must be ") + (lo_open ? "greater than " : "between ") + format_number(lo) +
         (lo_open ? " and at most " : " and ") + format_number(hi);
}

std::string integer_rule(int64_t lo, int64_t hi, const std::string& zero_means) {
  std::string rule = "must be ";
  if (!zero_means.empty()) rule += "0 (" + zero_means + ") or ";
  return rule + "between " + std::to_string(lo) + " and " + std::to_string(hi);
}

}  // namespace

std::string join_alternatives(const std::vector<std::string>& choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += i + 1 == choices.size() ? " or " : ", ";
    out += choices[i];
  }
  return out;
}

// Stored parameters must parse back to the same values (a weight of .511111111111111 must not
// become .5111111111), and messages stay short for ordinary numbers.
std::string format_number(double v) {
  for (int precision : {10, 15, 17}) {
    std::ostringstream ss;
    ss.precision(precision);
    ss << v;
    if (precision == 17 || std::strtod(ss.str().c_str(), nullptr) == v) return ss.str();
  }
  return {};
}

void check_integer(const std::string& field, int64_t v, int64_t lo, int64_t hi,
                   const std::string& zero_means) {
  if (v == 0 && !zero_means.empty()) return;
  if (v < lo || v > hi) reject_option(field, integer_rule(lo, hi, zero_means));
}

int64_t parse_integer(const std::string& field, const std::string& text, int64_t lo, int64_t hi,
                      const std::string& zero_means) {
  const std::string value = trim_blanks(text);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec == std::errc::result_out_of_range) reject_option(field, integer_rule(lo, hi, zero_means));
  if (ec != std::errc() || end != value.data() + value.size())
    reject_option(field, "must be an integer");
  check_integer(field, v, lo, hi, zero_means);
  return v;
}

void check_number(const std::string& field, double v, double lo, double hi, bool lo_open) {
  if (!std::isfinite(v)) reject_option(field, "must be a number");
  if ((lo_open ? v <= lo : v < lo) || v > hi) reject_option(field, range_rule(lo, hi, lo_open));
}

double parse_number(const std::string& field, const std::string& text, double lo, double hi,
                    bool lo_open) {
  const std::string value = trim_blanks(text);
  if (value.empty() || value.size() > 64) reject_option(field, "must be a number");
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (end != value.c_str() + value.size()) reject_option(field, "must be a number");
  check_number(field, v, lo, hi, lo_open);
  return v;
}

std::optional<std::string> scalar_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return std::string(value.get<bool>() ? "true" : "false");
  if (value.is_number_integer() || value.is_number_unsigned()) return value.dump();
  if (value.is_number_float()) return format_number(value.get<double>());
  return std::nullopt;
}

bool parse_flag(const std::string& field, const std::string& text) {
  std::string v;
  for (char c : trim_blanks(text))
    v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "true" || v == "1" || v == "on" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "off" || v == "no") return false;
  reject_option(field, "must be true or false");
}

std::string trim_blanks(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim_blanks(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::vector<double> parse_number_list(const std::string& field, const std::string& text, double lo,
                                      double hi) {
  std::vector<double> out;
  for (const auto& item : split_list(text)) out.push_back(parse_number(field, item, lo, hi));
  return out;
}

}  // namespace pastiche
