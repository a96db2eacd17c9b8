// One table per enum gives its text names both ways: to_string, parsing with an error that lists
// the accepted values, and the list itself for help texts and the option catalogue.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace pastiche {

template <class E>
struct EnumName {
  E value;
  const char* name;
  bool alias = false;  // accepted when parsing, never written (e.g. "l-bfgs" for lbfgs)
};

// The canonical name of `value` (the first non-alias entry), or "" when the table lacks it.
template <class E, size_t N>
const char* enum_to_string(const EnumName<E> (&names)[N], E value) {
  for (const auto& n : names) {
    if (!n.alias && n.value == value) return n.name;
  }
  return "";
}

// The canonical names in table order.
template <class E, size_t N>
std::vector<std::string> enum_choices(const EnumName<E> (&names)[N]) {
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (!n.alias) out.emplace_back(n.name);
  }
  return out;
}

// "a", "a or b", "a, b or c".
std::string join_alternatives(const std::vector<std::string>& choices);

// The value named `text`; InputError "field: must be a, b or c" otherwise.
template <class E, size_t N>
E enum_from_string(const EnumName<E> (&names)[N], const std::string& field, std::string_view text) {
  for (const auto& n : names) {
    if (text == n.name) return n.value;
  }
  throw InputError(field + ": must be " + join_alternatives(enum_choices(names)));
}

}  // namespace pastiche
