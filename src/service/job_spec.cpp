#include "service/job_spec.h"

#include <algorithm>

#include "common/error.h"
#include "common/option_catalog.h"
#include "common/text.h"

namespace pastiche::service {

using nlohmann::json;

namespace {

[[noreturn]] void bad_spec(const std::string& message) {
  throw InputError("job spec: " + message);
}

// A stored option value as the text its catalogue entry parses (the inverse of option_json).
std::string option_text(const std::string& name, const json& value) {
  if (auto text = scalar_text(value)) return *text;
  bad_spec("'" + printable(name, 40) + "' is not a string, number or boolean");
}

// Every setting of the catalogue (all of them, not only the HTTP fields: the spec is what the
// engine runs), except the mix, which is the job's own field.
template <class T>
json stored_options(const OptionCatalog<T>& catalog, const T& options) {
  json out = options_json(catalog, options, /*use=*/0);
  out.erase("style_mix");
  return out;
}

json mix_json(const std::map<std::string, double>& mix) {
  json out = json::object();
  for (const auto& [name, weight] : mix) out[name] = weight;
  return out;
}

// Sets the named settings through the catalogue; `use` restricts them (legacy params hold only
// HTTP fields). Unknown names are refused: a spec this build does not understand must not run
// with some settings silently dropped.
template <class T>
void load_options(const OptionCatalog<T>& catalog, const json& values, unsigned use, T& target) {
  for (const auto& [name, value] : values.items()) {
    if (name == "style_mix") continue;
    const auto* o = find_option(catalog, name);
    if (!o || (use && !o->used_by(use))) bad_spec("unknown setting '" + printable(name, 40) + "'");
    o->set(target, option_text(name, value));
  }
}

std::map<std::string, double> mix_of(const json& j) {
  std::map<std::string, double> mix;
  if (j.is_null()) return mix;
  if (j.is_string()) return parse_style_mix(j.get<std::string>());
  if (!j.is_object()) bad_spec("style_mix is not an object");
  for (const auto& [name, w] : j.items()) {
    if (!w.is_number()) bad_spec("style_mix weights must be numbers");
    mix[name] = w.get<double>();
  }
  // The same rules as at submit (names, weights, count).
  return mix.empty() ? mix : parse_style_mix(format_style_mix(mix));
}

void validate(JobSpec& spec) {
  if (spec.styles.empty()) bad_spec("no style");
  spec.derive_engine_fields();
  visit_method_options(spec, [](const auto&, const auto& options) { options.validate(); });
}

}  // namespace

std::string JobSpec::style_id() const {
  std::string s;
  for (const auto& id : styles) s += (s.empty() ? "" : ",") + id;
  return s;
}

void JobSpec::derive_engine_fields() {
  if (method == JobMethod::fast) {
    fast.style_mix = style_mix;
    return;
  }
  auto& blend = method == JobMethod::gatys ? gatys.style_blend : arbitrary.style_blend;
  if (!style_mix.empty()) {
    blend.clear();
    for (const auto& id : styles) {
      auto it = style_mix.find(id);
      blend.push_back(it == style_mix.end() ? 0.0 : it->second);
    }
  }
  if (gatys.min_scale_size > gatys.size) gatys.min_scale_size = gatys.size;
}

int JobSpec::output_size() const {
  switch (method) {
    case JobMethod::fast:
      return fast.size;
    case JobMethod::arbitrary:
      return arbitrary.size;
    case JobMethod::gatys:
      break;
  }
  return gatys.size;
}

json JobSpec::params() const {
  json p = visit_method_options(*this, [](const auto& catalog, const auto& options) {
    return options_json(catalog, options, option_use::http);
  });
  p["style_mix"] = mix_json(style_mix);
  if (!init_job.empty()) p["init_job"] = init_job;
  return p;
}

json JobSpec::to_stored() const {
  return {{"version", kVersion},
          {"method", method_name()},
          {"styles", styles},
          {"style_mix", mix_json(style_mix)},
          {"content_job", content_job},
          {"init_job", init_job},
          {"size_given", size_given},
          {"options", visit_method_options(*this, [](const auto& catalog, const auto& options) {
             return stored_options(catalog, options);
           })}};
}

JobSpec JobSpec::from_stored(const json& j) {
  if (!j.is_object()) bad_spec("not a JSON object");
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer()) bad_spec("no version");
  if (version->get<int64_t>() != kVersion) {
    bad_spec("version " + version->dump() + " is not one this build reads (" +
             std::to_string(kVersion) + "); run a newer worker");
  }
  JobSpec spec;
  auto method = j.find("method");
  if (method == j.end() || !method->is_string()) bad_spec("no method");
  spec.method = parse_job_method(method->get<std::string>());
  auto styles = j.find("styles");
  if (styles == j.end() || !styles->is_array()) bad_spec("no styles");
  for (const auto& s : *styles) {
    if (!s.is_string() || !is_valid_style_name(s.get<std::string>())) bad_spec("bad style id");
    spec.styles.push_back(s.get<std::string>());
  }
  if (j.contains("style_mix")) spec.style_mix = mix_of(j["style_mix"]);
  if (j.contains("content_job") && j["content_job"].is_string()) {
    spec.content_job = j["content_job"].get<std::string>();
  }
  if (j.contains("init_job") && j["init_job"].is_string()) {
    spec.init_job = j["init_job"].get<std::string>();
  }
  if (j.contains("size_given") && j["size_given"].is_boolean()) {
    spec.size_given = j["size_given"].get<bool>();
  }
  json options = j.value("options", json::object());
  if (!options.is_object()) bad_spec("options is not an object");
  visit_method_options(
      spec, [&](const auto& catalog, auto& target) { load_options(catalog, options, 0, target); });
  validate(spec);
  return spec;
}

JobSpec JobSpec::from_legacy_params(const json& params, const std::string& method,
                                    const std::string& style) {
  if (!params.is_object()) bad_spec("params is not a JSON object");
  JobSpec spec;
  spec.method = parse_job_method(method);
  spec.styles = split_list(style);
  spec.size_given = params.contains("size");
  if (params.contains("style_mix")) spec.style_mix = mix_of(params["style_mix"]);
  visit_method_options(spec, [&](const auto& catalog, auto& target) {
    load_options(catalog, params, option_use::http, target);
  });
  validate(spec);
  return spec;
}

JobSpec job_spec_of(const JobRecord& job) {
  json j = json::parse(job.params, nullptr, false);
  if (j.is_discarded() || !j.is_object()) bad_spec("the stored parameters are not a JSON object");
  if (j.contains("version")) return JobSpec::from_stored(j);
  return JobSpec::from_legacy_params(j, job.method, job.style);
}

std::string stored_params(const JobSpec& spec) {
  return safe_dump(spec.to_stored());
}

json api_params(const JobRecord& job) {
  json j = json::parse(job.params, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return json::object();
  if (!j.contains("version")) return j;  // a legacy row: its params are the API's already
  try {
    return JobSpec::from_stored(j).params();
  } catch (const std::exception&) {
    return json::object();
  }
}

}  // namespace pastiche::service
