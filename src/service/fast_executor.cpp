#include "service/fast_executor.h"

#include <chrono>

#include "common/error.h"

namespace pastiche::service {

cv::Mat FastExecutor::run(const JobRun& r) {
  const std::string& id = r.spec.styles.front();
  auto style = styles_.find(id, r.owner, true);
  if (!style || !style->fast) throw InputError("style: '" + id + "' is not a fast model");
  auto stylizer = pool_.acquire(style->model_path);
  auto t0 = std::chrono::steady_clock::now();
  auto on_tiles = [&](int done, int total) {
    JobProgress p;
    p.iteration = done;
    p.total = total;
    p.elapsed_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    p.eta_seconds = done > 0 ? p.elapsed_seconds / done * (total - done) : 0;
    if (r.on_progress) r.on_progress(p);
  };
  on_tiles(0, 1);
  cv::Mat output = stylizer->stylize(r.content, r.spec.fast, on_tiles, r.cancel);
  if (r.cancel && *r.cancel) throw Cancelled();
  return output;
}

}  // namespace pastiche::service
