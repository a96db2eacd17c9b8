#include "service/engines.h"

#include "common/error.h"
#include "common/runtime.h"

namespace pastiche::service {

StylizerPool::Lease::~Lease() {
  if (!stylizer_) return;
  std::lock_guard lock(pool_->mutex_);
  pool_->idle_[path_].push_back(std::move(stylizer_));
}

StylizerPool::Lease StylizerPool::acquire(const std::string& model_path) {
  {
    std::lock_guard lock(mutex_);
    auto& idle = idle_[model_path];
    if (!idle.empty()) {
      auto s = std::move(idle.back());
      idle.pop_back();
      return Lease(this, model_path, std::move(s));
    }
  }
  // Loading happens outside the lock: other models stay available meanwhile.
  return Lease(this, model_path, std::make_unique<FastStylizer>(model_path, device_));
}

namespace {

// The arbitrary method needs the VGG encoder its decoder was trained on and the decoder itself;
// either missing or mismatched leaves the method off with the reason.
void load_arbitrary(Engines& e, bool load, spdlog::logger& log) {
  const std::string model = default_arbitrary_model_path();
  if (!e.gatys_available()) {
    e.arbitrary_unavailable_reason = "it needs the VGG weights: " + e.gatys_unavailable_reason;
  } else if (model.empty()) {
    e.arbitrary_unavailable_reason =
        "no decoder installed (models/arbitrary/relu3_1.safetensors, or set "
        "PASTICHE_ARBITRARY_MODEL)";
  } else {
    try {
      if (load) {
        e.arbitrary = std::make_shared<ArbitraryStylizer>(model, e.vgg, e.device);
      } else if (!is_arbitrary_model(model)) {
        throw InputError("not an arbitrary-style model");
      }
      e.arbitrary_model = model;
      log.info("arbitrary-style decoder: {}", model);
    } catch (const std::exception& ex) {
      e.arbitrary.reset();
      e.arbitrary_unavailable_reason = "cannot load '" + model + "': " + ex.what();
    }
  }
  if (!e.arbitrary_available())
    log.warn("arbitrary method unavailable: {}", e.arbitrary_unavailable_reason);
}

}  // namespace

Engines load_engines(const std::string& device, const std::string& vgg_setting, bool load_vgg,
                     spdlog::logger& log) {
  Engines e;
  e.device = select_device(device);
  e.fast = std::make_unique<StylizerPool>(e.device);
  std::string path = vgg_setting.empty() ? default_vgg_weights_path() : vgg_setting;
  if (vgg_setting == "none") {
    e.gatys_unavailable_reason = "disabled with --vgg none";
  } else if (path.empty()) {
    e.gatys_unavailable_reason =
        "no VGG weights found (run `pastiche weights` to install them, or set PASTICHE_VGG)";
  } else {
    try {
      if (load_vgg) {
        e.vgg = Vgg(path);
        e.vgg->to(e.device);
        e.vgg->eval();
        e.vgg_info = e.vgg->info();
      } else {
        e.vgg_info = inspect_vgg_weights(path);
      }
      log.info("VGG weights: {} ({} layers{})", path, e.vgg_info->available.size(),
               load_vgg ? "" : ", header only: this node runs no jobs");
    } catch (const std::exception& ex) {
      e.vgg = Vgg(nullptr);
      e.vgg_info.reset();
      e.gatys_unavailable_reason =
          std::string("cannot load VGG weights '") + path + "': " + ex.what();
    }
  }
  if (!e.gatys_available()) log.warn("Gatys method unavailable: {}", e.gatys_unavailable_reason);
  load_arbitrary(e, load_vgg, log);
  return e;
}

}  // namespace pastiche::service
