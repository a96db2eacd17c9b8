// Internal to store/: the SELECT list of a share (table alias s) that both backends read into a
// ShareRecord, in its field order; columns a query adds after it start at kShareColumnCount.
#pragma once

namespace pastiche {

inline constexpr const char* kShareColumns =
    "s.token, s.job_id, s.owner, s.created_ms, s.published, s.caption, s.published_ms, s.hidden, "
    "s.rating_count, s.rating_sum";
inline constexpr int kShareColumnCount = 10;

}  // namespace pastiche
