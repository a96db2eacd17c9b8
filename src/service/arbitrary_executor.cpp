#include "service/arbitrary_executor.h"

#include "common/error.h"

namespace pastiche::service {

cv::Mat ArbitraryExecutor::run(const JobRun& r) {
  if (!engines_.arbitrary) {
    throw InputError("method: arbitrary is not available: " +
                     engines_.arbitrary_unavailable_reason);
  }
  auto& stylizer = *engines_.arbitrary;
  const auto on_tiles = tile_progress(r);
  on_tiles(0, 1);
  std::vector<StyleHandle> styles;
  for (const auto& id : r.spec.styles) {
    auto style = styles_.find(id, r.owner, true);
    if (!style) throw NotFoundError("style: '" + id + "' no longer exists");
    // A style id names one painting for good (an upload is never replaced under its id).
    const std::string key = style->kind + ":" + style->id;
    styles.push_back(stylizer.style(key, styles_.style_image(*style), r.spec.arbitrary.style_size));
  }
  cv::Mat output = stylizer.stylize(r.content, styles, r.spec.arbitrary, on_tiles, r.cancel);
  if (r.cancel && *r.cancel) throw Cancelled();
  return output;
}

}  // namespace pastiche::service
