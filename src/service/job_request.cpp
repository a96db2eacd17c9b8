#include "service/job_request.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/error.h"
#include "common/option_catalog.h"
#include "common/text.h"
#include "service/ids.h"

namespace pastiche::service {

namespace {

[[noreturn]] void fail(const std::string& field, const std::string& message) {
  throw InputError(field + ": " + message);
}

// Fields of the job itself; every other field is a setting from the engines' catalogues.
const std::set<std::string> kJobFields = {"method", "style", "style_mix", "content_job",
                                          "init_job"};

template <class T>
const Option<T>* http_option(const OptionCatalog<T>& catalog, const std::string& name) {
  const auto* o = find_option(catalog, name);
  return o && o->used_by(option_use::http) ? o : nullptr;
}

bool is_known_field(const std::string& name) {
  return kJobFields.count(name) || http_option(gatys_option_catalog(), name) ||
         http_option(fast_option_catalog(), name) || http_option(arbitrary_option_catalog(), name);
}

// Why a field of another method is refused: "applies to method gatys only (this is a fast job)".
std::string refusal(const std::string& name, JobMethod method) {
  std::vector<std::string> owners;
  if (http_option(fast_option_catalog(), name)) owners.push_back("fast");
  if (http_option(gatys_option_catalog(), name)) owners.push_back("gatys");
  if (http_option(arbitrary_option_catalog(), name)) owners.push_back("arbitrary");
  std::string which = owners.size() == 1 ? "method " + owners[0] : "methods " + owners[0];
  for (size_t i = 1; i < owners.size(); ++i)
    which += (i + 1 == owners.size() ? " and " : ", ") + owners[i];
  const std::string m = to_string(method);
  return "applies to " + which + " only (this is " + (m[0] == 'a' ? "an " : "a ") + m + " job)";
}

// The service's own limits, narrower than the engines' (output size, Gatys steps and levels).
template <class T>
Option<T> within_service_limits(const Option<T>& o, const RequestLimits& limits) {
  if (o.name == "size") {
    Option<T> sized = o.within(limits.min_size, limits.max_size);
    sized.zero_means.clear();  // a fast job without a size gets the photo's (fit_to_images)
    return sized;
  }
  if (o.name == "steps") return o.within(o.int_lo, limits.max_steps);
  if (o.name == "scales") return o.within(o.int_lo, limits.max_scales);
  return o;
}

// Sets every settings field (not the job's own fields) through the catalogue of the method.
template <class T>
void apply_fields(const OptionCatalog<T>& catalog, const FormFields& fields,
                  const RequestLimits& limits, T& target, JobMethod method) {
  for (const auto& [name, value] : fields) {
    if (kJobFields.count(name)) continue;
    const auto* o = http_option(catalog, name);
    if (!o) fail(name, refusal(name, method));
    within_service_limits(*o, limits).set(target, value);
  }
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

void fit_gatys_levels(GatysOptions& g, const cv::Size& content,
                      const std::vector<cv::Size>& styles) {
  int need = min_longest_side(content.width, content.height);
  for (const auto& s : styles) need = std::max(need, min_longest_side(s.width, s.height));
  if (g.size < need) {
    fail("size", "at least " + std::to_string(need) +
                     " for images of this shape (the Gatys method needs " +
                     std::to_string(kMinImageSide) + " px on the short side of each image)");
  }
  g.min_scale_size = std::max(g.min_scale_size, need);
}

void fit_to_images(JobSpec& r, const cv::Size& content, const std::vector<cv::Size>& styles,
                   const RequestLimits& limits) {
  if (r.method == JobMethod::gatys) {
    fit_gatys_levels(r.gatys, content, styles);
    return;
  }
  // Fast and arbitrary jobs: the photo's own size unless one is asked for.
  int& size = r.method == JobMethod::fast ? r.fast.size : r.arbitrary.size;
  int need = min_longest_side(content.width, content.height);
  if (!r.size_given) {
    int longest = std::max(content.width, content.height);
    size = std::min(std::max({longest, need, limits.min_size}), limits.max_size);
  }
  if (size < need) {
    fail("size", "at least " + std::to_string(need) + " for a " + std::to_string(content.width) +
                     "x" + std::to_string(content.height) + " photo (the short side needs " +
                     std::to_string(kMinImageSide) + " px)");
  }
}

FormFields request_fields(const JobSpec& spec) {
  FormFields f;
  f["method"] = spec.method_name();
  f["style"] = spec.style_id();
  if (!spec.style_mix.empty()) f["style_mix"] = format_style_mix(spec.style_mix);
  if (!spec.content_job.empty()) f["content_job"] = spec.content_job;
  if (!spec.init_job.empty()) f["init_job"] = spec.init_job;
  auto add = [&f](const auto& catalog, const auto& options) {
    for (const auto& o : catalog) {
      if (o.used_by(option_use::http)) f[o.name] = o.get(options);
    }
  };
  visit_method_options(spec, add);
  if (spec.method != JobMethod::gatys && !spec.size_given) f.erase("size");
  return f;
}

JobSpec parse_job_request(const FormFields& raw, const RequestLimits& limits) {
  FormFields fields;
  for (const auto& [key, value] : raw) {
    if (!is_known_field(key)) fail(printable(key), "unknown field");
    std::string v = trim_blanks(value);
    if (!v.empty()) fields[key] = v;
  }
  auto has = [&](const char* k) { return fields.count(k) > 0; };

  JobSpec r;
  if (has("method")) r.method = parse_job_method(fields["method"]);
  if (!has("style")) fail("style", "required");
  for (const auto& id : split_list(fields["style"])) {
    if (!is_valid_style_name(id)) fail("style", "invalid style id");
    r.styles.push_back(id);
  }
  if (r.styles.empty()) fail("style", "required");
  const bool fast = r.method == JobMethod::fast;
  const size_t max_styles = fast ? 1 : 4;
  if (r.styles.size() > max_styles) {
    fail("style", fast ? "fast jobs take one style (use style_mix for a multi-style model)"
                       : "at most 4 styles");
  }
  if (std::set<std::string>(r.styles.begin(), r.styles.end()).size() != r.styles.size())
    fail("style", "a style is given twice");
  if (has("style_mix")) r.style_mix = parse_style_mix(fields["style_mix"]);
  if (has("content_job")) {
    r.content_job = fields["content_job"];
    if (!is_valid_id(r.content_job)) fail("content_job", "not a job id");
  }
  if (has("init_job")) {
    r.init_job = fields["init_job"];
    if (!is_valid_id(r.init_job)) fail("init_job", "not a job id");
    if (r.method != JobMethod::gatys)
      fail("init_job", "applies to method gatys only (this is " +
                           std::string(fast ? "a fast" : "an arbitrary") + " job)");
  }
  r.size_given = has("size");

  if (fast) {
    apply_fields(fast_option_catalog(), fields, limits, r.fast, r.method);
    r.derive_engine_fields();
    r.fast.validate();
    return r;
  }

  GatysOptions& g = r.gatys;
  if (g.size > limits.max_size) g.size = limits.max_size;
  if (r.method == JobMethod::arbitrary) {
    apply_fields(arbitrary_option_catalog(), fields, limits, r.arbitrary, r.method);
  } else {
    // Starting from another job's result: init image, unless the request says otherwise.
    if (!r.init_job.empty()) g.init = InitKind::image;
    apply_fields(gatys_option_catalog(), fields, limits, g, r.method);
    if (!r.init_job.empty() && g.init != InitKind::image)
      fail("init", "must be image (or left out) with init_job");
    if (r.init_job.empty() && g.init == InitKind::image)
      fail("init", "image starts from another job's result: give init_job");
  }
  if (!r.style_mix.empty()) {
    if (r.styles.size() < 2)
      fail("style_mix", r.method_name() + " mixes need two or more styles in 'style'");
    for (const auto& id : r.styles) {
      if (!r.style_mix.count(id)) fail("style_mix", "no weight for style '" + id + "'");
    }
    if (r.style_mix.size() != r.styles.size()) fail("style_mix", "names a style not in 'style'");
  }
  // The mix becomes style_blend; the coarsest level cannot be larger than the output (small
  // outputs get fewer levels).
  r.derive_engine_fields();
  visit_method_options(r, [](const auto&, const auto& options) { options.validate(); });
  return r;
}

FormFields fields_from_json(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InputError("body: expected a JSON object");
  FormFields f;
  for (const auto& [key, value] : j.items()) {
    if (auto text = scalar_text(value)) {
      if (std::string problem = text_problem(*text, false); !problem.empty()) {
        fail(printable(key), problem);
      }
      f[key] = *text;
    } else if (value.is_null()) {
      continue;
    } else if (key == "style_mix" && value.is_object()) {
      std::map<std::string, double> mix;
      for (const auto& [name, w] : value.items()) {
        if (!w.is_number()) fail("style_mix", "weights must be numbers");
        mix[name] = w.get<double>();
      }
      f[key] = format_style_mix(mix);
    } else {
      fail(key.size() > 40 ? key.substr(0, 40) : key, "must be a string, number or boolean");
    }
  }
  return f;
}

JobSpec parse_stylize_request(const FormFields& raw, const RequestLimits& limits) {
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
