#include "arbitrary/arbitrary_trainer.h"

#include <spdlog/spdlog.h>
#include <opencv2/core.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "arbitrary/arbitrary_model.h"
#include "arbitrary/linear_decoder_fit.h"
#include "arbitrary/wct.h"
#include "common/error.h"
#include "common/safetensors.h"
#include "fast/train_checkpoint.h"
#include "fast/train_data.h"
#include "image/image_io.h"
#include "image/tensor_convert.h"
#include "perceptual/losses.h"

namespace pastiche {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string stem_path(const std::string& output) {
  return (fs::path(output).parent_path() / fs::path(output).stem()).string();
}

// The previews: the photo, its reconstruction and, with a painting, the photo in that painting
// through the current decoder.
class Previewer {
 public:
  Previewer(const ArbitraryTrainOptions& o, const std::string& fallback)
      : photo_(resize_longest(load_image(o.preview_image.empty() ? fallback : o.preview_image),
                              o.preview_size)) {
    if (!o.preview_style.empty()) style_ = resize_longest(load_image(o.preview_style), 512);
  }
  cv::Mat render(Vgg& vgg, Decoder& decoder, const ComputeFormat& format, torch::Device device) {
    torch::NoGradGuard no_grad;
    decoder->eval();
    const auto& layer = decoder->options().layer;
    auto encode = [&](const cv::Mat& bgr) {
      cv::Mat even = bgr(cv::Rect(0, 0, bgr.cols / 4 * 4, bgr.rows / 4 * 4));
      return vgg
          ->forward(format.apply(image_to_tensor(even, device)).to(torch::kFloat), {layer},
                    format.dtype)
          .at(layer);
    };
    auto decode = [&](const torch::Tensor& f) {
      return tensor_to_image(decoder->forward(format.apply(f)).to(torch::kFloat));
    };
    const auto f = encode(photo_);
    std::vector<cv::Mat> panels{photo_(cv::Rect(0, 0, photo_.cols / 4 * 4, photo_.rows / 4 * 4)),
                                decode(f)};
    if (!style_.empty()) {
      FeatureMoments content, style;
      content.add(f);
      style.add(encode(style_));
      const auto stats = style_statistics(style);
      panels.push_back(decode(wct_transform(content, {{&stats, 1.0}}, 1.0).apply(f)));
    }
    decoder->train();
    cv::Mat out;
    cv::hconcat(panels, out);
    return out;
  }

 private:
  cv::Mat photo_, style_;
};

// 1 / the RMS of the layer's features on the first batch (DecoderOptions::input_scale), rounded
// to two significant digits so the file reads plainly.
double input_scale_for(Vgg& vgg, const std::string& layer, const torch::Tensor& batch,
                       const ComputeFormat& format) {
  torch::NoGradGuard no_grad;
  const auto f = vgg->forward(batch.contiguous(format.memory_format()), {layer}, format.dtype)
                     .at(layer)
                     .to(torch::kFloat);
  const double rms = std::sqrt(f.square().mean().item<double>());
  if (!(rms > 0)) return 1.0;
  const double scale = 1.0 / rms;
  const double unit = std::pow(10.0, std::floor(std::log10(scale)) - 1);
  return std::round(scale / unit) * unit;
}

}  // namespace

ArbitraryTrainResult train_arbitrary_decoder(const ArbitraryTrainOptions& options,
                                             const ArbitraryTrainCallbacks& callbacks) {
  const auto run_start = Clock::now();
  options.validate();
  const auto& o = options;
  std::vector<std::string> files;
  for (const auto& dir : o.datasets) {
    auto more = list_images(dir);
    files.insert(files.end(), more.begin(), more.end());
  }
  const PhotoDataset data(files);
  const auto device = select_device("auto");
  const auto format = resolve_compute_format(o.precision, o.layout, device);
  Vgg vgg(o.vgg.empty() ? default_vgg_weights_path() : o.vgg);
  const auto feature_layers = arbitrary_feature_layers(o.layer);
  vgg->check_layers(feature_layers);
  vgg->to(device);
  vgg->eval();
  for (auto& p : vgg->parameters()) p.requires_grad_(false);

  torch::manual_seed(o.seed);
  ArbitraryModel model;
  const auto checkpoint_file = o.output + ".ckpt";
  model.decoder = Decoder(DecoderOptions{
      o.layer, o.width,
      o.resume && fs::exists(checkpoint_file)
          ? load_arbitrary_model(checkpoint_file).decoder->options().input_scale
          : input_scale_for(vgg, o.layer, make_batch(data, o.size, o.batch, o.seed, 0).to(device),
                            format)});
  model.decoder->to(device);
  if (format.channels_last) {
    for (auto& p : model.decoder->parameters())
      if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  }
  model.encoder = encoder_identity(vgg);
  torch::optim::Adam optimizer(model.decoder->parameters(),
                               torch::optim::AdamOptions(o.learning_rate));

  ArbitraryTrainResult result;
  result.model_path = o.output;
  result.checkpoint_path = checkpoint_file;
  result.log_path = o.log_path.empty() ? stem_path(o.output) + ".log.jsonl" : o.log_path;
  result.dataset_images = static_cast<int>(data.size());
  result.parameters = model.decoder->parameter_count();
  if (!fs::path(o.output).parent_path().empty())
    fs::create_directories(fs::path(o.output).parent_path());

  int start = 0;
  double seconds_before = 0;
  if (o.resume) {
    if (!fs::exists(result.checkpoint_path))
      throw InputError("no checkpoint '" + result.checkpoint_path +
                       "' to resume from; run without --resume to start");
    const auto saved = load_arbitrary_model(result.checkpoint_path);
    if (saved.decoder->options().width != o.width || saved.decoder->options().layer != o.layer)
      throw InputError("checkpoint '" + result.checkpoint_path + "' holds a " +
                       saved.decoder->options().layer + " decoder of width " +
                       std::to_string(saved.decoder->options().width) + ", not " + o.layer +
                       " of width " + std::to_string(o.width));
    {
      torch::NoGradGuard no_grad;
      auto src = saved.decoder->named_parameters();
      for (auto& p : model.decoder->named_parameters()) p.value().copy_(src[p.key()]);
    }
    const auto file = read_safetensors(result.checkpoint_path);
    const auto state = file.tensors.find(kOptimizerStateTensor);
    if (state == file.tensors.end())
      throw InputError("'" + result.checkpoint_path + "' has no optimiser state");
    deserialise_adam(state->second, optimizer, result.checkpoint_path);
    start = saved.training.value("iteration", 0);
    seconds_before = saved.training.value("seconds", 0.0);
    result.final_loss = saved.training.value("final_loss", 0.0);  // until a step runs
    result.resumed_from = start;
  }

  std::ofstream log(result.log_path, o.resume ? std::ios::app : std::ios::trunc);
  if (!log) throw InputError("cannot write the loss log '" + result.log_path + "'");
  Previewer previewer(o, data.file(0));
  auto describe = [&](int iteration) {
    model.training = {{"layer", o.layer},
                      {"iteration", iteration},
                      {"seconds", std::round(seconds_before + seconds_since(run_start))},
                      {"dataset_images", result.dataset_images},
                      {"size", o.size},
                      {"batch", o.batch},
                      {"learning_rate", o.learning_rate},
                      {"feature_weight", o.feature_weight},
                      {"seed", o.seed},
                      {"precision", format.precision_name()},
                      {"threads", torch::get_num_threads()},
                      {"final_loss", result.final_loss}};
  };
  auto checkpoint = [&](int iteration) {
    describe(iteration);
    save_arbitrary_model(result.checkpoint_path, model, false,
                         {{kOptimizerStateTensor, serialise_adam(optimizer)}});
    result.preview_path =
        stem_path(o.output) + ".preview-" + cv::format("%06d", iteration) + ".png";
    save_image(previewer.render(vgg, model.decoder, format, device), result.preview_path);
    if (callbacks.on_checkpoint)
      callbacks.on_checkpoint(result.checkpoint_path, result.preview_path, iteration);
  };

  // Crops -> frozen encoder -> decoder -> pixels and features compared with the crops.
  struct Losses {
    torch::Tensor pixel, feature, total;
  };
  auto losses = [&](int batch_index) {
    const auto x = make_batch(data, o.size, o.batch, o.seed, batch_index).to(device);
    std::map<std::string, torch::Tensor> targets;
    {
      torch::NoGradGuard no_grad;
      targets = vgg->forward(x.contiguous(format.memory_format()), feature_layers, format.dtype);
    }
    const auto y = model.decoder->forward(targets.at(o.layer)).to(torch::kFloat);
    Losses l;
    l.pixel = torch::mse_loss(y, x.contiguous(y.suggest_memory_format()));
    const auto features = vgg->forward(y, feature_layers, format.dtype);
    l.feature = o.feature_weight * content_loss(features, targets, feature_layers);
    l.total = l.pixel + l.feature;
    return l;
  };
  auto log_line = [&](int iteration, const Losses& l, double elapsed) {
    log << nlohmann::json{{"iteration", iteration},
                          {"pixel", l.pixel.item<double>()},
                          {"feature", l.feature.item<double>()},
                          {"total", l.total.item<double>()},
                          {"seconds", elapsed}}
               .dump()
        << "\n";
    log.flush();
  };

  if (o.layer == "relu1_1") {
    // A linear decoder: solved, not trained (linear_decoder_fit.h); --iterations counts batches.
    LinearFitOptions fit;
    fit.batches = o.iterations;
    fit.size = o.size;
    fit.batch = o.batch;
    fit.seed = o.seed;
    {
      torch::NoGradGuard no_grad;
      result.first_loss = losses(o.iterations).total.item<double>();
    }
    fit_linear_decoder(model.decoder, vgg, data, fit, format, device, [&](int done, int total) {
      if (callbacks.cancel && callbacks.cancel->load()) throw Cancelled();
      if (!callbacks.on_progress) return;
      ArbitraryTrainProgress p;
      p.iteration = done;
      p.total = total;
      p.elapsed_seconds = seconds_since(run_start);
      p.eta_seconds = p.elapsed_seconds / done * (total - done);
      callbacks.on_progress(p);
    });
    torch::NoGradGuard no_grad;
    const auto l = losses(o.iterations);  // a batch the fit did not see
    result.final_loss = l.total.item<double>();
    log_line(o.iterations, l, seconds_since(run_start));
    checkpoint(o.iterations);
    describe(o.iterations);
    result.iterations = o.iterations;
    result.seconds = result.total_seconds = seconds_since(run_start);
    save_arbitrary_model(o.output, model, o.fp16);
    return result;
  }

  model.decoder->train();
  const auto loop_start = Clock::now();
  int iteration = start;
  while (iteration < o.iterations) {
    if (callbacks.cancel && callbacks.cancel->load()) {
      checkpoint(iteration);
      throw Cancelled();
    }
    optimizer.zero_grad();
    const auto step = losses(iteration);
    const auto& total = step.total;
    total.backward();
    optimizer.step();
    ++iteration;

    const double total_value = total.item<double>();
    if (!std::isfinite(total_value))
      throw std::runtime_error("training diverged at iteration " + std::to_string(iteration) +
                               " (loss is not finite); lower --lr");
    if (iteration == start + 1) result.first_loss = total_value;
    result.final_loss = total_value;
    const double elapsed = seconds_before + seconds_since(run_start);
    if (iteration % o.log_every == 0 || iteration == o.iterations || iteration == start + 1) {
      log_line(iteration, step, elapsed);
    }
    if (callbacks.on_progress) {
      ArbitraryTrainProgress p;
      p.iteration = iteration;
      p.total = o.iterations;
      p.pixel_loss = step.pixel.item<double>();
      p.feature_loss = step.feature.item<double>();
      p.total_loss = total_value;
      p.elapsed_seconds = seconds_since(run_start);
      p.eta_seconds = seconds_since(loop_start) / (iteration - start) * (o.iterations - iteration);
      callbacks.on_progress(p);
    }
    if (iteration % o.checkpoint_every == 0 && iteration < o.iterations) checkpoint(iteration);
  }
  if (start >= o.iterations) spdlog::info("checkpoint is already at iteration {}", start);
  checkpoint(iteration);
  describe(iteration);
  result.iterations = iteration;
  result.seconds = seconds_since(run_start);
  result.total_seconds = seconds_before + result.seconds;
  save_arbitrary_model(o.output, model, o.fp16);
  return result;
}

}  // namespace pastiche
