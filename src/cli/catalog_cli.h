// Command-line options generated from the engines' option catalogues (common/option_catalog.h):
// each setting's flag, help, type and default come from its declaration, and its value is parsed
// by the catalogue's own parser, so the CLI and the HTTP API accept and refuse the same things.
#pragma once
#include <CLI/CLI.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/error.h"
#include "common/option_catalog.h"

namespace pastiche::cli {

class CatalogOptions {
 public:
  CatalogOptions(CLI::App* command, unsigned use) : command_(command), use_(use) {}

  // Adds a flag for each option of `catalog` used by this command, with the default of
  // `defaults`. An option another catalogue already added (--size of Gatys and fast) is shared.
  template <class T>
  void declare(const OptionCatalog<T>& catalog, const T& defaults);

  // Sets every option the command line gave that `catalog` declares. InputError naming the flag
  // ("--style-weight: must be ...") when a value is refused.
  template <class T>
  void apply(const OptionCatalog<T>& catalog, T& target) const;

  // InputError when the command line gave an option that `catalog` does not declare, e.g.
  // "--steps: applies to Gatys (--style) only" for a fast job.
  template <class T>
  void require_declared_by(const OptionCatalog<T>& catalog, const std::string& reason) const;

  bool given(const std::string& name) const { return values_->count(name) > 0; }

 private:
  CLI::App* command_;
  unsigned use_;
  std::set<std::string> declared_;
  std::map<std::string, std::string> flags_;  // option name -> its first CLI name
  // Filled by CLI11 while parsing: the callbacks hold this shared map, not `this`.
  std::shared_ptr<std::map<std::string, std::string>> values_ =
      std::make_shared<std::map<std::string, std::string>>();
};

std::string type_name(OptionKind kind, const std::vector<std::string>& choices);
std::string first_flag(const std::string& cli_names);

template <class T>
void CatalogOptions::declare(const OptionCatalog<T>& catalog, const T& defaults) {
  for (const auto& o : catalog) {
    if (!o.used_by(use_) || !declared_.insert(o.name).second) continue;
    const std::string names = o.cli_names();
    flags_[o.name] = first_flag(names);
    auto values = values_;
    const std::string name = o.name;
    if (o.kind == OptionKind::flag) {
      command_->add_flag_function(
          names, [values, name](int64_t) { (*values)[name] = "true"; }, o.help);
      continue;
    }
    auto* option = command_->add_option_function<std::string>(
        names, [values, name](const std::string& v) { (*values)[name] = v; }, o.help);
    option->type_name(type_name(o.kind, o.choices));
    option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // the last one given wins
    std::string shown = o.get(defaults);
    if (!o.zero_means.empty() && shown == "0") shown = "0 (" + o.zero_means + ")";
    if (!shown.empty()) option->default_str(shown);
    if (!o.env.empty()) option->envname(o.env);
  }
}

template <class T>
void CatalogOptions::apply(const OptionCatalog<T>& catalog, T& target) const {
  for (const auto& [name, text] : *values_) {
    const auto* option = find_option(catalog, name);
    if (!option || !option->used_by(use_)) continue;
    try {
      option->set(target, text);
    } catch (const InputError& e) {
      // The catalogue names the field ("style_weight: ..."); a CLI user typed the flag.
      std::string message = e.what();
      if (message.rfind(name + ":", 0) == 0)
        message = flags_.at(name) + message.substr(name.size());
      throw InputError(message);
    }
  }
}

template <class T>
void CatalogOptions::require_declared_by(const OptionCatalog<T>& catalog,
                                         const std::string& reason) const {
  for (const auto& [name, text] : *values_) {
    const auto* option = find_option(catalog, name);
    if (!option || !option->used_by(use_)) throw InputError(flags_.at(name) + ": " + reason);
  }
}

}  // namespace pastiche::cli
