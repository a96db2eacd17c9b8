#include "fast/trainer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "common/error.h"
#include "fast/model_file.h"
#include "fast/train_checkpoint.h"
#include "fast/train_data.h"
#include "fast/train_outputs.h"
#include "image/image_io.h"

namespace pastiche {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The transform network, initialised from the seed, on the device; with bf16 its convolution
// weights are channels-last like the activations (the parameters stay float32).
TransformerNet make_network(const TrainObjective& objective) {
  const auto& o = objective.options();
  torch::manual_seed(o.seed);
  TransformerNet net(
      TransformerNetOptions{o.width, o.res_blocks, static_cast<int64_t>(o.styles.size())});
  net->to(objective.device());
  if (objective.format().channels_last) {
    for (auto& p : net->parameters())
      if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  return net;
}

torch::optim::AdamOptions adam_options(const TrainOptions& o) {
  return torch::optim::AdamOptions(o.learning_rate);
}

// Where the run starts: a checkpoint's iteration with its weights and optimiser state (--resume),
// or 0 with another model's weights (--init-from) or the fresh network.
CheckpointProgress restore(const TrainOptions& o, TrainResult& result, TransformerNet& net,
                           torch::optim::Adam& optimizer) {
  if (o.resume) {
    if (!fs::exists(result.checkpoint_path))
      throw InputError("no checkpoint '" + result.checkpoint_path +
                       "' to resume from; run without --resume to start");
    const auto progress = load_checkpoint(result.checkpoint_path, net, optimizer);
    result.resumed_from = progress.iteration;
    return progress;
  }
  if (!o.init_from.empty()) {
    load_weights(o.init_from, net);
    result.notes.push_back("started from the weights of " + o.init_from);
  }
  return {};
}

TrainProgress progress_at(int iteration, int start, int total, const StepLosses& losses,
                          double run_seconds, double loop_seconds) {
  TrainProgress p;
  p.iteration = iteration;
  p.total = total;
  p.content_loss = losses.content;
  p.style_loss = losses.style;
  p.tv_loss = losses.tv;
  p.total_loss = losses.total;
  p.elapsed_seconds = run_seconds;
  p.eta_seconds = loop_seconds / (iteration - start) * (total - iteration);
  return p;
}

// The finished model's training record.
void record_run(FastModelMeta& meta, const TrainResult& result, const TrainOptions& o) {
  meta.training["iterations"] = result.iterations;
  meta.training["epochs"] =
      static_cast<double>(result.iterations) * o.batch / result.dataset_images;
  meta.training["dataset_images"] = result.dataset_images;
  meta.training["seconds"] = std::round(result.total_seconds);
  meta.training["threads"] = torch::get_num_threads();
  meta.training["final_loss"] = {{"content", result.final_content_loss},
                                 {"style", result.final_style_loss},
                                 {"total", result.final_loss}};
}

}  // namespace

std::string checkpoint_path_for(const std::string& model_path) {
  return model_path + ".ckpt";
}

TrainStepper::TrainStepper(const TrainOptions& options)
    : objective_(options),
      net_(make_network(objective_)),
      optimizer_(net_->parameters(), adam_options(objective_.options())) {}

double TrainStepper::step(const torch::Tensor& batch) {
  // The same step as train_fast_model's loop.
  const auto x = objective_.input(batch);
  optimizer_.zero_grad();
  const auto y = net_->forward(x, net_->style_vector(0).to(x.device())).to(torch::kFloat);
  const auto loss = objective_.loss(y, x, 0);
  loss.total.backward();
  optimizer_.step();
  return TrainObjective::values(loss).total;
}

int64_t TrainStepper::parameters() const {
  return net_->parameter_count();
}

TrainResult train_fast_model(const TrainOptions& options, const TrainCallbacks& callbacks) {
  const auto run_start = Clock::now();
  TrainObjective objective(options);  // VGG, layers, the paintings' Gram matrices
  const auto& o = objective.options();
  const PhotoDataset data(list_images(o.dataset));
  const int total = o.total_iterations(static_cast<int>(data.size()));
  auto net = make_network(objective);
  torch::optim::Adam optimizer(net->parameters(), adam_options(o));

  TrainResult result;
  result.model_path = o.output;
  result.checkpoint_path = checkpoint_path_for(o.output);
  result.log_path = loss_log_path(o);
  result.style_layers = objective.style_layers();
  result.content_layers = objective.content_layers();
  if (!objective.layer_note().empty()) result.notes.push_back(objective.layer_note());
  result.dataset_images = static_cast<int>(data.size());
  result.parameters = net->parameter_count();
  if (!fs::path(o.output).parent_path().empty())
    fs::create_directories(fs::path(o.output).parent_path());

  auto meta = describe_model(objective, net->options());
  const cv::Mat preview_photo = load_preview_photo(o, data.file(0));
  const auto resumed = restore(o, result, net, optimizer);
  const int start = resumed.iteration;
  if (o.resume && start >= total)
    spdlog::info("checkpoint is already at iteration {} of {}", start, total);
  LossLog log(result.log_path, o.resume);
  auto seconds_so_far = [&] { return resumed.seconds + seconds_since(run_start); };  // all runs
  auto save_checkpoint_and_preview = [&](int iteration) {
    save_checkpoint(result.checkpoint_path, FastModel(net, meta), optimizer,
                    {iteration, seconds_so_far(), total});
    result.preview_path = preview_path(o.output, iteration);
    save_image(render_preview(net, preview_photo, objective.format()), result.preview_path);
    if (callbacks.on_checkpoint)
      callbacks.on_checkpoint(result.checkpoint_path, result.preview_path, iteration);
  };

  net->train();
  const auto loop_start = Clock::now();
  int iteration = start;
  while (iteration < total) {
    if (callbacks.cancel && callbacks.cancel->load()) {
      save_checkpoint_and_preview(iteration);
      throw Cancelled();
    }
    // Photos (cropped, flipped) → the network in one of the styles → perceptual loss → Adam.
    const auto style = static_cast<int64_t>(iteration % static_cast<int>(o.styles.size()));
    const auto x = objective.input(make_batch(data, o.size, o.batch, o.seed, iteration));
    optimizer.zero_grad();
    const auto y = net->forward(x, net->style_vector(style).to(x.device())).to(torch::kFloat);
    const auto loss = objective.loss(y, x, style);
    loss.total.backward();
    optimizer.step();
    ++iteration;

    const auto losses = TrainObjective::values(loss);  // throws when training diverged
    if (iteration == start + 1) result.first_loss = losses.total;
    result.final_loss = losses.total;
    result.final_style_loss = losses.style;
    result.final_content_loss = losses.content;
    if (iteration % o.log_every == 0 || iteration == total || iteration == start + 1)
      log.write(iteration, style, losses, seconds_so_far());
    if (callbacks.on_progress)
      callbacks.on_progress(progress_at(iteration, start, total, losses, seconds_since(run_start),
                                        seconds_since(loop_start)));
    if (o.checkpoint_every > 0 && iteration % o.checkpoint_every == 0 && iteration < total)
      save_checkpoint_and_preview(iteration);
  }
  save_checkpoint_and_preview(iteration);

  result.iterations = iteration;
  result.seconds = seconds_since(run_start);
  result.total_seconds = resumed.seconds + result.seconds;
  record_run(meta, result, o);
  save_fast_model(o.output, FastModel(net, meta), o.fp16);
  return result;
}

}  // namespace pastiche
