// Arbitrary-style jobs: any painting (built-in or uploaded) in one pass of the relu3_1 decoder;
// each painting's statistics are computed once and kept by the shared stylizer.
#pragma once
#include "service/engines.h"
#include "service/job_executor.h"
#include "service/style_catalog.h"

namespace pastiche::service {

class ArbitraryExecutor : public JobExecutor {
 public:
  ArbitraryExecutor(StyleCatalog& styles, const Engines& engines)
      : styles_(styles), engines_(engines) {}
  cv::Mat run(const JobRun& run) override;

 private:
  StyleCatalog& styles_;
  const Engines& engines_;
};

}  // namespace pastiche::service
