#include "service/job_executor.h"

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

}  // namespace pastiche::service
