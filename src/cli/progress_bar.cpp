#include "cli/progress_bar.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace pastiche::cli {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::hours(1)) {}

ProgressBar::~ProgressBar() {
  if (drawn_ && tty_) std::fputc('\n', stderr);
}

void ProgressBar::update(double done, double total, const std::string& detail) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const auto since_draw = std::chrono::duration<double>(now - last_draw_).count();
  const bool finished = total > 0 && done >= total;
  if (since_draw < (tty_ ? 0.1 : 5.0) && !finished) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = total > 0 ? std::min(1.0, std::max(0.0, done / total)) : 0.0;
  const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : -1;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  std::fprintf(stderr, "%s%s [%s] %3.0f%% %s<%s %s%s", tty_ ? "\r" : "", label_.c_str(),
               bar.c_str(), fraction * 100, format_duration(elapsed).c_str(),
               format_duration(eta).c_str(), detail.c_str(), tty_ ? "\x1b[K" : "\n");
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish(const std::string& detail) {
  if (!enabled_) return;
  last_draw_ = std::chrono::steady_clock::now() - std::chrono::hours(1);
  update(1, 1, detail);
  if (tty_) std::fputc('\n', stderr);
  drawn_ = false;
}

}  // namespace pastiche::cli
