#include "service/gatys_executor.h"

#include "common/error.h"
#include "gatys/gatys_engine.h"
#include "service/job_request.h"

namespace pastiche::service {

cv::Mat GatysExecutor::run(const JobRun& r) {
  if (!engines_.vgg) {
    throw InputError("method: gatys is not available: " + engines_.gatys_unavailable_reason);
  }
  std::vector<cv::Mat> style_images;
  std::vector<cv::Size> style_sizes;
  for (const auto& id : r.spec.styles) {
    auto style = styles_.find(id, r.owner, true);
    if (!style) throw NotFoundError("style: '" + id + "' no longer exists");
    style_images.push_back(styles_.style_image(*style));
    style_sizes.push_back(style_images.back().size());
  }
  GatysOptions options = r.spec.gatys;
  fit_gatys_levels(options, r.content.size(), style_sizes);
  options.preview_every = preview_every_;

  GatysCallbacks callbacks;
  callbacks.cancel = r.cancel;
  callbacks.on_progress = [&](const GatysProgress& g) {
    JobProgress p;
    p.iteration = g.iteration;
    p.total = g.total;
    p.scale = g.scale;
    p.scales = g.scales;
    p.content_loss = g.content_loss;
    p.style_loss = g.style_loss;
    p.tv_loss = g.tv_loss;
    p.elapsed_seconds = g.elapsed_seconds;
    p.eta_seconds = g.eta_seconds;
    if (r.on_progress) r.on_progress(p);
  };
  if (r.on_preview) callbacks.on_preview = r.on_preview;
  GatysEngine engine(engines_.vgg, engines_.device);
  return engine.run(r.content, style_images, options, callbacks, r.init).image;
}

}  // namespace pastiche::service
