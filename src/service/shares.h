// What the share-link and gallery routes have in common (routes_share.cpp, routes_gallery.cpp).
#pragma once
#include <string>

#include "service/routes.h"

namespace pastiche::service {

constexpr int64_t kMaxSharesPerClient = 200;

// The job's share link, created when it has none (409 unless the job is done, or when its owner
// has kMaxSharesPerClient links already).
ShareRecord ensure_share(Context& ctx, const JobRecord& job);

// The artists of a job's style ids (comma-separated), as the job's owner sees the catalog;
// several joined with " & "; "" when unknown.
std::string style_artists(Context& ctx, const std::string& styles, const std::string& owner);

// A share's mean stars, rounded to 0.01; null without votes.
nlohmann::json rating_average(const ShareRecord& share);

}  // namespace pastiche::service
