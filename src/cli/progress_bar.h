// A one-line progress bar on stderr, redrawn in place on a terminal and printed every few
// seconds as plain lines otherwise (logs stay readable).
#pragma once
#include <chrono>
#include <string>

namespace pastiche::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label, bool enabled = true);
  ~ProgressBar();
  // done/total units; `detail` is appended (e.g. "style 0.021 content 0.48").
  void update(double done, double total, const std::string& detail = {});
  void finish(const std::string& detail = {});

 private:
  std::string label_;
  bool enabled_;
  bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

std::string format_duration(double seconds);

}  // namespace pastiche::cli
