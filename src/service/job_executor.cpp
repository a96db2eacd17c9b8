#include "service/job_executor.h"

#include <chrono>

namespace pastiche::service {

nlohmann::json JobProgress::to_json() const {
  return {{"iteration", iteration},
          {"total", total},
          {"scale", scale},
          {"scales", scales},
          {"content_loss", content_loss},
          {"style_loss", style_loss},
          {"tv_loss", tv_loss},
          {"elapsed_seconds", elapsed_seconds},
          {"eta_seconds", eta_seconds}};
}

std::function<void(int, int)> tile_progress(const JobRun& r) {
  const auto t0 = std::chrono::steady_clock::now();
  return [&r, t0](int done, int total) {
    JobProgress p;
    p.iteration = done;
    p.total = total;
    p.elapsed_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    p.eta_seconds = done > 0 ? p.elapsed_seconds / done * (total - done) : 0;
    if (r.on_progress) r.on_progress(p);
  };
}

}  // namespace pastiche::service
