// What a job is asked to do, typed: the method, its styles and the engine options. Parsed once at
// the edge (job_request.h turns HTTP fields into a JobSpec), stored as its own versioned JSON in
// JobRecord::params, and read back by the worker that runs it without the form parser or the
// request limits (the engines' own ranges still apply).
//
// Stored JSON, version 2:
//   {"version": 2, "method": "gatys", "styles": ["a", "b"], "style_mix": {"a": 0.7, "b": 0.3},
//    "content_job": "", "init_job": "", "size_given": true,
//    "options": {every setting of the method's option catalogue, as option_json()}}
// Rows written before the spec existed (no "version") hold the API's params object (the HTTP
// fields of the method plus "style_mix"); their method and styles are the row's columns.
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "arbitrary/arbitrary_options.h"
#include "fast/fast_options.h"
#include "gatys/gatys_options.h"
#include "store/job_store.h"

namespace pastiche::service {

// Also the queue's lanes: a worker takes the jobs of the methods it runs.
enum class JobMethod { fast, gatys, arbitrary };
inline constexpr EnumName<JobMethod> kJobMethodNames[] = {
    {JobMethod::fast, "fast"}, {JobMethod::gatys, "gatys"}, {JobMethod::arbitrary, "arbitrary"}};
inline const char* to_string(JobMethod m) {
  return enum_to_string(kJobMethodNames, m);
}
// InputError "method: must be fast, gatys or arbitrary".
inline JobMethod parse_job_method(const std::string& s) {
  return enum_from_string(kJobMethodNames, "method", s);
}

struct JobSpec {
  static constexpr int kVersion = 2;  // of the stored JSON

  JobMethod method = JobMethod::fast;
  std::vector<std::string> styles;  // style ids (one for fast; up to 4 for gatys, arbitrary)
  std::map<std::string, double> style_mix;
  std::string content_job;     // the photo was reused from this job (validated id) or empty
  std::string init_job;        // gatys: starts from this job's result (init image), or empty
  bool size_given = false;     // false: fast uses the photo's size (capped)
  GatysOptions gatys;          // meaningful when method == gatys
  FastOptions fast;            // meaningful when method == fast
  ArbitraryOptions arbitrary;  // meaningful when method == arbitrary

  std::string method_name() const { return to_string(method); }
  std::string style_id() const;  // styles joined with ','

  // The engine fields that follow from the job's own: fast.style_mix is the mix, a Gatys or
  // arbitrary mix becomes style_blend (one weight per style, in order), and the coarsest Gatys
  // level is no larger than the output. Idempotent.
  void derive_engine_fields();

  // The output's longest side, px (0 = the photo's own, for fast and arbitrary jobs).
  int output_size() const;

  // The "params" object of the API's job JSON: the method's HTTP settings, "style_mix" and,
  // when there is one, "init_job".
  nlohmann::json params() const;

  // The stored form (see the top of this file) and back. from_stored throws InputError naming
  // what is wrong ("job spec: ..."), and validates the options against the engines' ranges.
  nlohmann::json to_stored() const;
  static JobSpec from_stored(const nlohmann::json& stored);
  // A version-less params object (rows stored before the spec existed).
  static JobSpec from_legacy_params(const nlohmann::json& params, const std::string& method,
                                    const std::string& style);
};

// f(catalogue, options) with the option catalogue and the options of the spec's method.
template <class Spec, class F>
decltype(auto) visit_method_options(Spec& spec, F&& f) {
  switch (spec.method) {
    case JobMethod::fast:
      return f(fast_option_catalog(), spec.fast);
    case JobMethod::arbitrary:
      return f(arbitrary_option_catalog(), spec.arbitrary);
    case JobMethod::gatys:
      break;
  }
  return f(gatys_option_catalog(), spec.gatys);
}

// The spec of a stored job: JobRecord::params in either form. InputError when unreadable.
JobSpec job_spec_of(const JobRecord& job);
// The text for JobRecord::params.
std::string stored_params(const JobSpec& spec);
// The API's "params" of a stored job; never throws (unreadable params show as stored, or {}).
nlohmann::json api_params(const JobRecord& job);

}  // namespace pastiche::service
