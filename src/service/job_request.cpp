#include "service/job_request.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

#include "common/error.h"
#include "service/ids.h"

namespace pastiche::service {

namespace {

[[noreturn]] void fail(const std::string& field, const std::string& message) {
  throw InputError(field + ": " + message);
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

int64_t parse_int(const std::string& field, const std::string& value, int64_t lo, int64_t hi) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec == std::errc::result_out_of_range) {
    fail(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  if (ec != std::errc() || p != value.data() + value.size()) fail(field, "must be an integer");
  if (v < lo || v > hi) {
    fail(field, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  return v;
}

// The shortest of 10, 15 or 17 significant digits that reads back as exactly `v`: stored
// parameters must parse to the same values (a weight of .511111111111111 must not become
// .5111111111), and messages stay short for ordinary numbers.
std::string format_number(double v) {
  for (int precision : {10, 15, 17}) {
    std::ostringstream ss;
    ss.precision(precision);
    ss << v;
    if (precision == 17 || std::strtod(ss.str().c_str(), nullptr) == v) return ss.str();
  }
  return {};
}

double parse_double(const std::string& field, const std::string& value, double lo, double hi,
                    bool lo_open = false) {
  if (value.empty() || value.size() > 64) fail(field, "must be a number");
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(value.c_str(), &end);
  if (end != value.c_str() + value.size() || !std::isfinite(v)) fail(field, "must be a number");
  bool below = lo_open ? v <= lo : v < lo;
  if (below || v > hi) {
    fail(field, std::string("must be ") + (lo_open ? "greater than " : "between ") +
                    format_number(lo) + (lo_open ? " and at most " : " and ") + format_number(hi));
  }
  return v;
}

const std::set<std::string>& known_fields() {
  static const std::set<std::string> fields = {
      "method",         "style",     "style_mix",       "size",  "steps", "style_weight",
      "content_weight", "tv_weight", "original_colors", "blend", "seed",  "optimizer",
      "init",           "scales",    "content_job"};
  return fields;
}

}  // namespace

void check_image_shape(const std::string& field, int width, int height) {
  int lo = std::min(width, height), hi = std::max(width, height);
  std::string dims = std::to_string(width) + "x" + std::to_string(height);
  if (lo < kMinImageSide) {
    fail(field,
         dims + " is too small: at least " + std::to_string(kMinImageSide) + " px on each side");
  }
  if (hi > kMaxAspectRatio * lo) {
    fail(field, dims + " is too elongated: the long side may be at most " +
                    format_number(kMaxAspectRatio) + " times the short side");
  }
}

int min_longest_side(int width, int height) {
  int lo = std::max(1, std::min(width, height)), hi = std::max(width, height);
  return static_cast<int>(std::ceil(static_cast<double>(kMinImageSide) * hi / lo - 1e-9));
}

void fit_to_images(JobRequest& r, const cv::Size& content, const std::vector<cv::Size>& styles,
                   const RequestLimits& limits) {
  int need = min_longest_side(content.width, content.height);
  if (r.method == "fast") {
    if (!r.size_given) {
      int longest = std::max(content.width, content.height);
      r.fast.size = std::min(std::max({longest, need, limits.min_size}), limits.max_size);
    }
    if (r.fast.size < need) {
      fail("size", "at least " + std::to_string(need) + " for a " + std::to_string(content.width) +
                       "x" + std::to_string(content.height) + " photo (the short side needs " +
                       std::to_string(kMinImageSide) + " px)");
    }
    return;
  }
  for (const auto& s : styles) need = std::max(need, min_longest_side(s.width, s.height));
  if (r.gatys.size < need) {
    fail("size", "at least " + std::to_string(need) +
                     " for images of this shape (the Gatys method needs " +
                     std::to_string(kMinImageSide) + " px on the short side of each image)");
  }
  r.gatys.min_scale_size = std::max(r.gatys.min_scale_size, need);
}

bool parse_bool_field(const std::string& field, const std::string& value) {
  std::string v;
  for (char c : value) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v == "true" || v == "1" || v == "on" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "off" || v == "no") return false;
  fail(field, "must be true or false");
}

std::map<std::string, double> parse_style_mix(const std::string& text) {
  std::map<std::string, double> mix;
  if (text.size() > 2048) fail("style_mix", "too long");
  std::stringstream ss(text);
  std::string item;
  double sum = 0;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos)
      fail("style_mix", "expected name=weight pairs, got '" + item + "'");
    std::string name = trim(item.substr(0, eq));
    if (!is_valid_style_name(name)) fail("style_mix", "invalid style name '" + name + "'");
    double w = parse_double("style_mix", trim(item.substr(eq + 1)), 0, 1e6);
    if (!mix.emplace(name, w).second) fail("style_mix", "'" + name + "' given twice");
    sum += w;
    if (mix.size() > 16) fail("style_mix", "at most 16 styles");
  }
  if (!mix.empty() && sum <= 0) fail("style_mix", "weights must not all be zero");
  return mix;
}

std::string JobRequest::style_id() const {
  std::string s;
  for (const auto& id : styles) s += (s.empty() ? "" : ",") + id;
  return s;
}

nlohmann::json JobRequest::params() const {
  nlohmann::json mix = nlohmann::json::object();
  for (const auto& [k, v] : style_mix) mix[k] = v;
  if (method == "fast") {
    return {{"size", fast.size},
            {"original_colors", fast.original_colors},
            {"blend", fast.blend},
            {"style_mix", mix}};
  }
  return {{"size", gatys.size},
          {"steps", gatys.steps},
          {"style_weight", gatys.style_weight},
          {"content_weight", gatys.content_weight},
          {"tv_weight", gatys.tv_weight},
          {"original_colors", gatys.original_colors},
          {"blend", gatys.blend},
          {"seed", gatys.seed},
          {"optimizer", to_string(gatys.optimizer)},
          {"init", to_string(gatys.init)},
          {"scales", gatys.scales},
          {"style_mix", mix}};
}

FormFields JobRequest::params_fields() const {
  FormFields f;
  f["method"] = method;
  f["style"] = style_id();
  const nlohmann::json p = params();
  for (const auto& [key, value] : p.items()) {
    if (key == "style_mix") {
      std::string text;
      for (const auto& [name, w] : style_mix) {
        text += (text.empty() ? "" : ",") + name + "=" + format_number(w);
      }
      if (!text.empty()) f[key] = text;
    } else if (value.is_boolean()) {
      f[key] = value.get<bool>() ? "true" : "false";
    } else if (value.is_string()) {
      f[key] = value.get<std::string>();
    } else if (value.is_number_integer() || value.is_number_unsigned()) {
      f[key] = value.dump();
    } else {
      f[key] = format_number(value.get<double>());
    }
  }
  if (method == "fast" && fast.size == 0) f.erase("size");
  return f;
}

JobRequest parse_job_request(const FormFields& raw, const RequestLimits& limits) {
  FormFields fields;
  for (const auto& [key, value] : raw) {
    if (!known_fields().count(key)) {
      std::string shown = key.size() > 40 ? key.substr(0, 40) + "…" : key;
      for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20) c = '?';
      }
      fail(shown, "unknown field");
    }
    std::string v = trim(value);
    if (!v.empty()) fields[key] = v;
  }
  auto has = [&](const char* k) { return fields.count(k) > 0; };

  JobRequest r;
  if (has("method")) {
    r.method = fields["method"];
    if (r.method != "fast" && r.method != "gatys") fail("method", "must be fast or gatys");
  }
  if (!has("style")) fail("style", "required");
  {
    std::stringstream ss(fields["style"]);
    std::string id;
    while (std::getline(ss, id, ',')) {
      id = trim(id);
      if (!is_valid_style_name(id)) fail("style", "invalid style id");
      r.styles.push_back(id);
    }
    if (r.styles.empty()) fail("style", "required");
    size_t max_styles = r.method == "fast" ? 1 : 4;
    if (r.styles.size() > max_styles) {
      fail("style", r.method == "fast" ? "fast jobs take one style (use style_mix for a "
                                         "multi-style model)"
                                       : "at most 4 styles");
    }
    std::set<std::string> unique(r.styles.begin(), r.styles.end());
    if (unique.size() != r.styles.size()) fail("style", "a style is given twice");
  }
  if (has("style_mix")) r.style_mix = parse_style_mix(fields["style_mix"]);
  if (has("content_job")) {
    r.content_job = fields["content_job"];
    if (!is_valid_id(r.content_job)) fail("content_job", "not a job id");
  }

  int size = 0;
  if (has("size")) {
    r.size_given = true;
    size = static_cast<int>(parse_int("size", fields["size"], limits.min_size, limits.max_size));
  }
  bool original_colors =
      has("original_colors") && parse_bool_field("original_colors", fields["original_colors"]);
  double blend = has("blend") ? parse_double("blend", fields["blend"], 0, 1) : 1.0;

  if (r.method == "fast") {
    for (const char* gatys_only : {"steps", "style_weight", "content_weight", "tv_weight", "seed",
                                   "optimizer", "init", "scales"}) {
      if (has(gatys_only)) fail(gatys_only, "applies to method gatys only (this is a fast job)");
    }
    r.fast.size = size;
    r.fast.original_colors = original_colors;
    r.fast.blend = blend;
    r.fast.style_mix = r.style_mix;
    r.fast.validate();
    return r;
  }

  GatysOptions& g = r.gatys;
  if (r.size_given) g.size = std::min(size, limits.max_size);
  if (!r.size_given && g.size > limits.max_size) g.size = limits.max_size;
  g.original_colors = original_colors;
  g.blend = blend;
  if (has("steps"))
    g.steps = static_cast<int>(parse_int("steps", fields["steps"], 0, limits.max_steps));
  if (has("style_weight"))
    g.style_weight = parse_double("style_weight", fields["style_weight"], 0, 1e9, true);
  if (has("content_weight"))
    g.content_weight = parse_double("content_weight", fields["content_weight"], 0, 1e9);
  if (has("tv_weight")) g.tv_weight = parse_double("tv_weight", fields["tv_weight"], 0, 1e9);
  if (has("seed")) g.seed = static_cast<uint64_t>(parse_int("seed", fields["seed"], 0, INT64_MAX));
  if (has("optimizer")) {
    const auto& o = fields["optimizer"];
    if (o != "lbfgs" && o != "adam") fail("optimizer", "must be lbfgs or adam");
    g.optimizer = parse_optimizer(o);
  }
  if (has("init")) {
    const auto& i = fields["init"];
    if (i != "content" && i != "noise" && i != "style")
      fail("init", "must be content, noise or style");
    g.init = parse_init(i);
  }
  if (has("scales")) g.scales = static_cast<int>(parse_int("scales", fields["scales"], 0, 6));
  if (!r.style_mix.empty()) {
    if (r.styles.size() < 2) fail("style_mix", "gatys mixes need two or more styles in 'style'");
    for (const auto& id : r.styles) {
      auto it = r.style_mix.find(id);
      if (it == r.style_mix.end()) fail("style_mix", "no weight for style '" + id + "'");
      g.style_blend.push_back(it->second);
    }
    if (r.style_mix.size() != r.styles.size()) fail("style_mix", "names a style not in 'style'");
  }
  // The coarsest level cannot be larger than the output: small outputs get fewer levels.
  if (g.min_scale_size > g.size) g.min_scale_size = g.size;
  g.validate();
  return r;
}

FormFields fields_from_json(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InputError("body: expected a JSON object");
  FormFields f;
  for (const auto& [key, value] : j.items()) {
    if (value.is_string()) {
      f[key] = value.get<std::string>();
    } else if (value.is_boolean()) {
      f[key] = value.get<bool>() ? "true" : "false";
    } else if (value.is_number_integer() || value.is_number_unsigned()) {
      f[key] = value.dump();
    } else if (value.is_number_float()) {
      f[key] = format_number(value.get<double>());
    } else if (value.is_null()) {
      continue;
    } else if (key == "style_mix" && value.is_object()) {
      std::string text;
      for (const auto& [name, w] : value.items()) {
        if (!w.is_number()) fail("style_mix", "weights must be numbers");
        text += (text.empty() ? "" : ",") + name + "=" + format_number(w.get<double>());
      }
      f[key] = text;
    } else {
      fail(key.size() > 40 ? key.substr(0, 40) : key, "must be a string, number or boolean");
    }
  }
  return f;
}

JobRequest parse_stylize_request(const FormFields& raw, const RequestLimits& limits) {
  FormFields fields;
  for (const auto& [key, value] : raw) {
    if (key == "image" || key == "format") continue;
    if (key == "original_color") {
      fields["original_colors"] = value;
    } else if (key == "blend_alpha") {
      fields["blend"] = value;
    } else if (key == "style" || key == "size" || key == "style_mix") {
      fields[key] = value;
    } else {
      std::string shown = key.size() > 40 ? key.substr(0, 40) : key;
      fail(shown, "unknown field");
    }
  }
  fields["method"] = "fast";
  try {
    return parse_job_request(fields, limits);
  } catch (const InputError& e) {
    std::string msg = e.what();
    if (msg.rfind("original_colors:", 0) == 0) msg = "original_color:" + msg.substr(16);
    if (msg.rfind("blend:", 0) == 0) msg = "blend_alpha:" + msg.substr(6);
    throw InputError(msg);
  }
}

}  // namespace pastiche::service
