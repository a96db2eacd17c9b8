// Fast jobs: one pass of a trained transform network, from the stylizer pool.
#pragma once
#include "service/engines.h"
#include "service/job_executor.h"
#include "service/style_catalog.h"

namespace pastiche::service {

class FastExecutor : public JobExecutor {
 public:
  FastExecutor(StyleCatalog& styles, StylizerPool& pool) : styles_(styles), pool_(pool) {}
  cv::Mat run(const JobRun& run) override;

 private:
  StyleCatalog& styles_;
  StylizerPool& pool_;
};

}  // namespace pastiche::service
