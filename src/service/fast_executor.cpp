#include "service/fast_executor.h"

#include "common/error.h"

namespace pastiche::service {

cv::Mat FastExecutor::run(const JobRun& r) {
  const std::string& id = r.spec.styles.front();
  auto style = styles_.find(id, r.owner, true);
  if (!style || !style->fast) throw InputError("style: '" + id + "' is not a fast model");
  auto stylizer = pool_.acquire(style->model_path);
  const auto on_tiles = tile_progress(r);
  on_tiles(0, 1);
  cv::Mat output = stylizer->stylize(r.content, r.spec.fast, on_tiles, r.cancel);
  if (r.cancel && *r.cancel) throw Cancelled();
  return output;
}

}  // namespace pastiche::service
