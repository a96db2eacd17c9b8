// A check both schemas (sqlite_schema.cpp, pg_schema.cpp) make of their migration lists.
#pragma once
#include <cstddef>

namespace pastiche {

// True when `migrations` (each with an int `version`) are numbered 1, 2, ... `latest`, in
// order: none missing, none twice (helpers adding versions in parallel must end gap-free).
template <class Migration, std::size_t N>
constexpr bool numbered_in_order(const Migration (&migrations)[N], int latest) {
  for (std::size_t i = 0; i < N; ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) return false;
  }
  return static_cast<int>(N) == latest;
}

}  // namespace pastiche
