// Each setting of an engine declared once: its name, kind, range, help and where it is accepted.
// The default is the engine struct's own member initialiser. The command line (cli/catalog_cli.h)
// and the HTTP job fields (service/job_request.cpp) are generated from these declarations, and
// every engine's validate() checks its values against the same ranges, so a range or a message
// cannot drift between the CLI, the API and the engine.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "common/enum_names.h"

namespace pastiche {

// Where a setting is accepted (bits of Option::uses).
namespace option_use {
constexpr unsigned stylize = 1u << 0;  // pastiche stylize
constexpr unsigned video = 1u << 1;    // pastiche stylize-video
constexpr unsigned train = 1u << 2;    // pastiche train
constexpr unsigned http = 1u << 3;     // a field of POST /api/jobs
}  // namespace option_use

enum class OptionKind { integer, number, flag, choice, names, numbers, text };

template <class T>
struct Option {
  std::string name;  // snake_case: the HTTP field as is, the CLI flag as --name-with-dashes
  OptionKind kind = OptionKind::text;
  std::string help;
  unsigned uses = 0;  // option_use bits
  std::string cli;    // CLI11 names when not "--" + name with dashes (e.g. "--lr")
  std::string env;    // environment variable the CLI reads when the flag is not given
  // integer: [int_lo, int_hi]; number, numbers: [lo, hi], or (lo, hi] when lo_open.
  int64_t int_lo = 0, int_hi = 0;
  double lo = 0, hi = 0;
  bool lo_open = false;
  std::string zero_means;            // integer: 0 is also allowed and means this ("automatic")
  std::vector<std::string> choices;  // choice: the accepted names
  std::function<std::string(const T&)> get;  // canonical text; set(get(x)) gives x back
  std::function<void(const Option&, T&, const std::string&)> parse;  // checked, else InputError
  std::function<void(const Option&, const T&)> check;                // value within the range

  // Parses `text` into the target; InputError "name: must be ..." when it is not acceptable.
  void set(T& target, const std::string& text) const { parse(*this, target, text); }
  void validate(const T& target) const {
    if (check) check(*this, target);
  }
  bool used_by(unsigned use) const { return (uses & use) != 0; }
  std::string cli_names() const;  // cli, or "--" + name with '_' as '-'
  // The same option with a narrower range (the service's limits on size and steps).
  Option within(double new_lo, double new_hi) const;
};

template <class T>
using OptionCatalog = std::vector<Option<T>>;

template <class T>
const Option<T>* find_option(const OptionCatalog<T>& catalog, const std::string& name) {
  for (const auto& o : catalog) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

// Every value of `target` within its option's range (the per-field half of validate()).
template <class T>
void validate_options(const OptionCatalog<T>& catalog, const T& target) {
  for (const auto& o : catalog) o.validate(target);
}

// The value as JSON of its kind (integer, number, boolean; the rest as their text).
template <class T>
nlohmann::json option_json(const Option<T>& option, const T& target);

// Every option used by `use` (0: all of them) as a JSON object of option_json values.
template <class T>
nlohmann::json options_json(const OptionCatalog<T>& catalog, const T& target, unsigned use) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& o : catalog) {
    if (use == 0 || o.used_by(use)) out[o.name] = option_json(o, target);
  }
  return out;
}

// A JSON scalar as the text an option parses (the inverse of option_json): strings as they are,
// booleans as true/false, numbers exactly; nullopt for null, arrays and objects.
std::optional<std::string> scalar_text(const nlohmann::json& value);

// ---- Text rules shared by every option (option_catalog.cpp) -----------------------------------

// Shortest of 10, 15 or 17 significant digits that reads back as exactly `v`.
std::string format_number(double v);
int64_t parse_integer(const std::string& field, const std::string& text, int64_t lo, int64_t hi,
                      const std::string& zero_means = "");
void check_integer(const std::string& field, int64_t v, int64_t lo, int64_t hi,
                   const std::string& zero_means = "");
double parse_number(const std::string& field, const std::string& text, double lo, double hi,
                    bool lo_open = false);
void check_number(const std::string& field, double v, double lo, double hi, bool lo_open = false);
bool parse_flag(const std::string& field, const std::string& text);  // true/false, 1/0, yes/no
std::vector<std::string> split_list(const std::string& text);        // "a, b,,c" -> a b c
std::string trim_blanks(const std::string& text);                    // spaces, tabs, newlines
std::vector<double> parse_number_list(const std::string& field, const std::string& text, double lo,
                                      double hi);

// ---- Builders: one line per setting in each engine's catalogue --------------------------------

template <class T>
Option<T> make_option(std::string name, OptionKind kind, std::string help, unsigned uses) {
  Option<T> o;
  o.name = std::move(name);
  o.kind = kind;
  o.help = std::move(help);
  o.uses = uses;
  return o;
}

template <class T, class I>
Option<T> integer_option(std::string name, I T::*member, int64_t lo, int64_t hi, std::string help,
                         unsigned uses, std::string zero_means = "") {
  auto o = make_option<T>(std::move(name), OptionKind::integer, std::move(help), uses);
  o.int_lo = lo;
  o.int_hi = hi;
  o.lo = static_cast<double>(lo);
  o.hi = static_cast<double>(hi);
  o.zero_means = std::move(zero_means);
  o.get = [member](const T& t) { return std::to_string(t.*member); };
  o.parse = [member](const Option<T>& self, T& t, const std::string& text) {
    t.*member =
        static_cast<I>(parse_integer(self.name, text, self.int_lo, self.int_hi, self.zero_means));
  };
  o.check = [member](const Option<T>& self, const T& t) {
    int64_t v = 0;
    if constexpr (std::is_unsigned_v<I>) {
      v = t.*member > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX
                                                       : static_cast<int64_t>(t.*member);
    } else {
      v = static_cast<int64_t>(t.*member);
    }
    check_integer(self.name, v, self.int_lo, self.int_hi, self.zero_means);
  };
  return o;
}

template <class T>
Option<T> number_option(std::string name, double T::*member, double lo, double hi, std::string help,
                        unsigned uses, bool lo_open = false) {
  auto o = make_option<T>(std::move(name), OptionKind::number, std::move(help), uses);
  o.lo = lo;
  o.hi = hi;
  o.lo_open = lo_open;
  o.get = [member](const T& t) { return format_number(t.*member); };
  o.parse = [member](const Option<T>& self, T& t, const std::string& text) {
    t.*member = parse_number(self.name, text, self.lo, self.hi, self.lo_open);
  };
  o.check = [member](const Option<T>& self, const T& t) {
    check_number(self.name, t.*member, self.lo, self.hi, self.lo_open);
  };
  return o;
}

template <class T>
Option<T> flag_option(std::string name, bool T::*member, std::string help, unsigned uses) {
  auto o = make_option<T>(std::move(name), OptionKind::flag, std::move(help), uses);
  o.get = [member](const T& t) { return std::string(t.*member ? "true" : "false"); };
  o.parse = [member](const Option<T>& self, T& t, const std::string& text) {
    t.*member = parse_flag(self.name, text);
  };
  return o;
}

template <class T, class E, size_t N>
Option<T> choice_option(std::string name, E T::*member, const EnumName<E> (&names)[N],
                        std::string help, unsigned uses) {
  auto o = make_option<T>(std::move(name), OptionKind::choice, std::move(help), uses);
  o.choices = enum_choices(names);
  o.get = [member, &names](const T& t) { return std::string(enum_to_string(names, t.*member)); };
  o.parse = [member, &names](const Option<T>& self, T& t, const std::string& text) {
    t.*member = enum_from_string(names, self.name, text);
  };
  return o;
}

// Comma-separated names (VGG layers); checked against the weights later, where they are known.
template <class T>
Option<T> names_option(std::string name, std::vector<std::string> T::*member, std::string help,
                       unsigned uses) {
  auto o = make_option<T>(std::move(name), OptionKind::names, std::move(help), uses);
  o.get = [member](const T& t) {
    std::string s;
    for (const auto& item : t.*member) s += (s.empty() ? "" : ",") + item;
    return s;
  };
  o.parse = [member](const Option<T>&, T& t, const std::string& text) {
    t.*member = split_list(text);
  };
  return o;
}

// Comma-separated numbers, each within [lo, hi].
template <class T>
Option<T> numbers_option(std::string name, std::vector<double> T::*member, double lo, double hi,
                         std::string help, unsigned uses) {
  auto o = make_option<T>(std::move(name), OptionKind::numbers, std::move(help), uses);
  o.lo = lo;
  o.hi = hi;
  o.get = [member](const T& t) {
    std::string s;
    for (double v : t.*member) s += (s.empty() ? "" : ",") + format_number(v);
    return s;
  };
  o.parse = [member](const Option<T>& self, T& t, const std::string& text) {
    t.*member = parse_number_list(self.name, text, self.lo, self.hi);
  };
  o.check = [member](const Option<T>& self, const T& t) {
    for (double v : t.*member) check_number(self.name, v, self.lo, self.hi);
  };
  return o;
}

template <class T>
Option<T> text_option(std::string name, std::string T::*member, std::string help, unsigned uses) {
  auto o = make_option<T>(std::move(name), OptionKind::text, std::move(help), uses);
  o.get = [member](const T& t) { return t.*member; };
  o.parse = [member](const Option<T>&, T& t, const std::string& text) { t.*member = text; };
  return o;
}

// An option of a member struct as an option of the outer one (VideoOptions::frame's size).
template <class Outer, class Inner>
Option<Outer> nested_option(const Option<Inner>& inner, Inner Outer::*member) {
  Option<Outer> o;
  o.name = inner.name;
  o.kind = inner.kind;
  o.help = inner.help;
  o.uses = inner.uses;
  o.cli = inner.cli;
  o.env = inner.env;
  o.int_lo = inner.int_lo;
  o.int_hi = inner.int_hi;
  o.lo = inner.lo;
  o.hi = inner.hi;
  o.lo_open = inner.lo_open;
  o.zero_means = inner.zero_means;
  o.choices = inner.choices;
  o.get = [inner, member](const Outer& t) { return inner.get(t.*member); };
  o.parse = [inner, member](const Option<Outer>&, Outer& t, const std::string& text) {
    inner.set(t.*member, text);
  };
  o.check = [inner, member](const Option<Outer>&, const Outer& t) { inner.validate(t.*member); };
  return o;
}

// ---- Member definitions ------------------------------------------------------------------------

template <class T>
std::string Option<T>::cli_names() const {
  if (!cli.empty()) return cli;
  std::string flag = "--" + name;
  for (char& c : flag) {
    if (c == '_') c = '-';
  }
  return flag;
}

template <class T>
Option<T> Option<T>::within(double new_lo, double new_hi) const {
  Option o = *this;
  o.lo = new_lo;
  o.hi = new_hi;
  o.int_lo = static_cast<int64_t>(new_lo);
  o.int_hi = static_cast<int64_t>(new_hi);
  return o;
}

template <class T>
nlohmann::json option_json(const Option<T>& option, const T& target) {
  const std::string text = option.get(target);
  switch (option.kind) {
    case OptionKind::integer:
      return std::stoll(text);
    case OptionKind::number:
      return std::strtod(text.c_str(), nullptr);
    case OptionKind::flag:
      return text == "true";
    default:
      return text;
  }
}

}  // namespace pastiche
