#include "fast/neutral_style.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "common/error.h"
#include "common/runtime.h"
#include "fast/train_data.h"

namespace pastiche {

namespace {

bool is_norm_pair(const std::string& name) {
  const auto dot = name.rfind('.');
  const std::string last = dot == std::string::npos ? name : name.substr(dot + 1);
  return last == "gamma" || last == "beta";
}

// `model` with one more (gamma, beta) pair per norm layer, the mean of its styles' pairs, and
// the neutral entry among its styles.
FastModel widened(const FastModel& model) {
  auto meta = model.meta();
  meta.network.styles += 1;
  TransformerNet net(meta.network);
  auto source = model.net()->named_parameters();
  torch::NoGradGuard no_grad;
  const int64_t styles = model.meta().network.styles;
  for (auto& p : net->named_parameters()) {
    const auto& from = source[p.key()].to(torch::kCPU, torch::kFloat);
    if (is_norm_pair(p.key())) {
      p.value().slice(0, 0, styles).copy_(from);
      p.value()[styles].copy_(from.mean(0));
    } else {
      p.value().copy_(from);
    }
  }
  StyleMeta neutral;
  neutral.name = kNeutralStyleName;
  neutral.description = "The photo's own look through this network: strength 0.";
  neutral.neutral = true;
  meta.styles.push_back(std::move(neutral));
  return FastModel(net, meta);
}

}  // namespace

void NeutralTrainOptions::validate() const {
  if (dataset.empty()) throw InputError("dataset: give a folder of photos");
  if (iterations < 1 || iterations > 100000)
    throw InputError("iterations must be in [1, 100000], got " + std::to_string(iterations));
  if (size < 32 || size > 1024)
    throw InputError("size must be in [32, 1024], got " + std::to_string(size));
  if (batch < 1 || batch > 64)
    throw InputError("batch must be in [1, 64], got " + std::to_string(batch));
  if (!(learning_rate > 0 && learning_rate <= 1))
    throw InputError("learning_rate must be in (0, 1]");
}

NeutralTrainResult train_neutral_style(FastModel& model, const NeutralTrainOptions& options,
                                       const std::function<void(int, int, double)>& progress) {
  options.validate();
  const auto start = std::chrono::steady_clock::now();
  const PhotoDataset data(list_images(options.dataset));
  if (model.meta().neutral_index() < 0) model = widened(model);
  const int64_t slot = model.meta().neutral_index();
  auto& net = model.net();
  net->to(torch::kCPU, torch::kFloat);

  const auto format =
      resolve_compute_format(Precision::automatic, MemoryLayout::automatic, torch::kCPU);
  std::vector<torch::Tensor> pairs;
  for (auto& p : net->named_parameters()) {
    const bool pair = is_norm_pair(p.key());
    p.value().requires_grad_(pair);
    if (pair) pairs.push_back(p.value());
    if (!pair && format.channels_last && p.value().dim() == 4)
      p.value().set_data(p.value().contiguous(torch::MemoryFormat::ChannelsLast));
  }
  torch::optim::Adam optimizer(pairs, torch::optim::AdamOptions(options.learning_rate));
  const auto style = net->style_vector(slot);

  NeutralTrainResult result;
  net->train();
  for (int i = 0; i < options.iterations; ++i) {
    const auto photos = make_batch(data, options.size, options.batch, options.seed, i);
    optimizer.zero_grad();
    const auto out = net->forward(format.apply(photos), style).to(torch::kFloat);
    const auto loss = torch::mse_loss(out, photos);
    loss.backward();
    // Only the neutral pair learns: the styles' rows get no gradient, so Adam leaves them as
    // they are (their moments stay zero).
    for (auto& p : pairs) {
      auto g = p.mutable_grad();
      g.slice(0, 0, slot).zero_();
      g.slice(0, slot + 1).zero_();
    }
    optimizer.step();
    const double value = loss.item<double>();
    if (!std::isfinite(value)) throw std::runtime_error("neutral training diverged (loss NaN)");
    if (i == 0) result.first_loss = value;
    result.final_loss = value;
    if (progress) progress(i + 1, options.iterations, value);
  }
  net->eval();
  for (auto& p : net->parameters()) {
    p.requires_grad_(true);
    if (p.dim() == 4) p.set_data(p.contiguous());
  }
  model.meta().training["neutral"] = {{"iterations", options.iterations},
                                      {"mse", result.final_loss},
                                      {"dataset_images", data.size()}};
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("neutral style: mse {:.5f} -> {:.5f} in {} iterations, {:.0f} s", result.first_loss,
               result.final_loss, options.iterations, result.seconds);
  return result;
}

}  // namespace pastiche
