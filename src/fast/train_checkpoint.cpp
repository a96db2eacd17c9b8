#include "fast/train_checkpoint.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <map>
#include <sstream>

#include "common/error.h"

namespace pastiche {

namespace {

// A saved model or checkpoint whose network has `net`'s shape.
FastModel load_matching_model(const std::string& path, const TransformerNet& net,
                              std::map<std::string, torch::Tensor>* extra,
                              std::map<std::string, std::string>* metadata) {
  auto saved = load_fast_model(path, extra, metadata);
  const auto& have = saved.meta().network;
  const auto& want = net->options();
  if (have.width != want.width || have.res_blocks != want.res_blocks || have.styles != want.styles)
    throw InputError("'" + path + "' holds network " + have.to_json().dump() +
                     ", which differs from the requested one; use the same --width, "
                     "--res-blocks and number of styles");
  return saved;
}

void copy_parameters(const FastModel& from, TransformerNet& to) {
  torch::NoGradGuard no_grad;
  auto src = from.net()->named_parameters();
  for (auto& p : to->named_parameters()) p.value().copy_(src[p.key()]);
}

}  // namespace

torch::Tensor serialise_adam(const torch::optim::Adam& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  const std::string bytes = out.str();
  auto t = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kByte);
  std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  return t;
}

void deserialise_adam(const torch::Tensor& bytes, torch::optim::Adam& optimizer,
                      const std::string& path) {
  try {
    const auto t = bytes.to(torch::kByte).contiguous();
    torch::serialize::InputArchive archive;
    archive.load_from(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()),
                      static_cast<size_t>(t.numel()), torch::kCPU);
    optimizer.load(archive);
  } catch (const c10::Error& e) {
    throw InputError("checkpoint '" + path + "' has an unreadable optimiser state (" +
                     e.what_without_backtrace() + "); start again without --resume");
  }
}

namespace {

// The format of checkpoints written before LibTorch's serialisation was used: both moments per
// parameter name and one step count. LibTorch keys a parameter's state by its TensorImpl address,
// so that is where it goes.
void restore_legacy(const std::map<std::string, torch::Tensor>& tensors, int64_t adam_step,
                    const TransformerNet& net, torch::optim::Adam& optimizer,
                    const std::string& path) {
  if (adam_step <= 0) return;  // saved before the first step: nothing to restore
  for (const auto& p : net->named_parameters()) {
    auto m = tensors.find("adam.exp_avg." + p.key());
    auto v = tensors.find("adam.exp_avg_sq." + p.key());
    if (m == tensors.end() || v == tensors.end())
      throw InputError("checkpoint '" + path + "' lacks the optimiser state of '" + p.key() +
                       "'; start again without --resume");
    const auto layout = p.value().suggest_memory_format();
    auto state = std::make_unique<torch::optim::AdamParamState>();
    state->step(adam_step);
    state->exp_avg(m->second.to(torch::kFloat).to(p.value().device()).contiguous(layout));
    state->exp_avg_sq(v->second.to(torch::kFloat).to(p.value().device()).contiguous(layout));
    optimizer.state()[c10::guts::to_string(p.value().unsafeGetTensorImpl())] = std::move(state);
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const FastModel& model,
                     const torch::optim::Adam& optimizer, const CheckpointProgress& progress) {
  const nlohmann::json info = {{"iteration", progress.iteration},
                               {"seconds", progress.seconds},
                               {"total_iterations", progress.total_iterations}};
  save_fast_model(path, model, false, {{kOptimizerStateTensor, serialise_adam(optimizer)}},
                  {{"checkpoint", info.dump()}});
}

CheckpointProgress load_checkpoint(const std::string& path, TransformerNet& net,
                                   torch::optim::Adam& optimizer) {
  std::map<std::string, torch::Tensor> extra;
  std::map<std::string, std::string> metadata;
  const auto saved = load_matching_model(path, net, &extra, &metadata);
  nlohmann::json info;
  try {
    info = nlohmann::json::parse(metadata.at("checkpoint"));
  } catch (const std::exception&) {
    throw InputError("'" + path + "' is a model, not a training checkpoint");
  }
  copy_parameters(saved, net);
  const auto state = extra.find(kOptimizerStateTensor);
  if (state != extra.end()) {
    deserialise_adam(state->second, optimizer, path);
  } else if (info.contains("adam_step")) {
    restore_legacy(extra, info.at("adam_step").get<int64_t>(), net, optimizer, path);
  } else {
    throw InputError("checkpoint '" + path +
                     "' has no optimiser state; start again without --resume");
  }
  CheckpointProgress progress;
  progress.iteration = info.at("iteration").get<int>();
  progress.seconds = info.value("seconds", 0.0);
  progress.total_iterations = info.value("total_iterations", 0);
  return progress;
}

void load_weights(const std::string& path, TransformerNet& net) {
  copy_parameters(load_matching_model(path, net, nullptr, nullptr), net);
}

}  // namespace pastiche
