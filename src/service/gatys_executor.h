// Gatys jobs: the optimisation against the VGG loss network, with a preview image every
// `preview_every` iterations.
#pragma once
#include "service/engines.h"
#include "service/job_executor.h"
#include "service/style_catalog.h"

namespace pastiche::service {

class GatysExecutor : public JobExecutor {
 public:
  GatysExecutor(StyleCatalog& styles, const Engines& engines, int preview_every)
      : styles_(styles), engines_(engines), preview_every_(preview_every) {}
  cv::Mat run(const JobRun& run) override;

 private:
  StyleCatalog& styles_;
  const Engines& engines_;
  int preview_every_;
};

}  // namespace pastiche::service
