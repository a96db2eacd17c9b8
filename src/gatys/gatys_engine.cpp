#include "gatys/gatys_engine.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "common/error.h"
#include "common/runtime.h"
#include "gatys/schedule.h"
#include "image/image_io.h"
#include "image/postprocess.h"
#include "image/tensor_convert.h"
#include "perceptual/losses.h"

namespace pastiche {

namespace {

using Clock = std::chrono::steady_clock;
using FeatureMap = std::map<std::string, torch::Tensor>;

std::vector<std::string> union_of(const std::vector<std::string>& a,
                                  const std::vector<std::string>& b) {
  std::vector<std::string> out = a;
  for (const auto& n : b)
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  return out;
}

// Everything one scale level needs, computed once before its optimisation starts.
struct LevelTargets {
  FeatureMap content_features;
  FeatureMap style_grams;
};

torch::Tensor to_network_layout(const torch::Tensor& x, bool channels_last) {
  return channels_last ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

}  // namespace

GatysEngine::GatysEngine(Vgg vgg, torch::Device device) : vgg_(std::move(vgg)), device_(device) {
  vgg_->to(device_);
  vgg_->eval();
}

GatysResult GatysEngine::run(const cv::Mat& content, const std::vector<cv::Mat>& styles,
                             const GatysOptions& options, const GatysCallbacks& callbacks) {
  options.validate();
  if (content.empty()) throw InputError("content image is empty");
  if (styles.empty()) throw InputError("at least one style image is needed");
  if (!options.style_blend.empty() && options.style_blend.size() != styles.size())
    throw InputError("style_blend: needs one weight per style image (" +
                     std::to_string(styles.size()) + " styles, " +
                     std::to_string(options.style_blend.size()) + " weights)");

  const auto start = Clock::now();
  const auto layers = choose_layers(vgg_, options.style_layers, options.content_layers);
  const auto all_layers = union_of(layers.style, layers.content);
  const PerceptualWeights weights{options.content_weight, options.style_weight, options.tv_weight,
                                  options.style_layer_weights};
  const auto plan = plan_schedule(options);

  GatysResult result;
  result.style_layers = layers.style;
  result.content_layers = layers.content;
  if (!layers.note.empty()) result.notes.push_back(layers.note);
  for (const auto& level : plan) result.schedule.push_back(level.size);

  // Blend weights, normalised: the target Gram is the weighted mean of the styles' Grams.
  std::vector<double> blend(styles.size(), 1.0 / static_cast<double>(styles.size()));
  if (!options.style_blend.empty()) {
    double sum = 0;
    for (double w : options.style_blend) sum += w;
    for (size_t i = 0; i < styles.size(); ++i) blend[i] = options.style_blend[i] / sum;
  }

  const cv::Mat final_content = resize_longest(content, options.size);
  std::vector<cv::Mat> style_images = styles;
  if (options.match_style_colors)
    for (auto& s : style_images) s = match_color_histogram(s, final_content);

  // Work is proportional to pixels x evaluations: used for the ETA across levels.
  const auto level_work = [&](const ScaleLevel& level) {
    return static_cast<double>(level.steps) * level.size * level.size;
  };
  double total_work = 0;
  int total_steps = 0;
  for (const auto& level : plan) {
    total_work += level_work(level);
    total_steps += level.steps;
  }
  double done_work = 0;

  const double lr = options.learning_rate > 0
                        ? options.learning_rate
                        : (options.optimizer == Optimizer::lbfgs ? 1.0 : 0.02);
  auto generator = at::detail::createCPUGenerator(options.seed);
  const auto float_opts = torch::TensorOptions().dtype(torch::kFloat32);

  const auto format = resolve_compute_format(options.precision, options.layout, device_);
  const auto compute = format.dtype;
  const bool channels_last = format.channels_last;
  result.precision = format.precision_name();
  result.layout = format.layout_name();

  torch::Tensor image;  // the optimisation variable, RGB [0,1] NCHW contiguous, on device_
  for (size_t level_index = 0; level_index < plan.size(); ++level_index) {
    const auto& level = plan[level_index];
    const cv::Mat level_content = resize_longest(content, level.size);
    const auto content_tensor = image_to_tensor(level_content, device_);
    const auto height = content_tensor.size(2), width = content_tensor.size(3);

    LevelTargets targets;
    {
      torch::NoGradGuard no_grad;
      targets.content_features =
          vgg_->forward(to_network_layout(content_tensor, channels_last), layers.content, compute);
      const int style_size =
          std::max(16, static_cast<int>(std::lround(level.size * options.style_scale)));
      for (size_t i = 0; i < style_images.size(); ++i) {
        const auto style_tensor =
            image_to_tensor(resize_longest(style_images[i], style_size), device_);
        const auto features =
            vgg_->forward(to_network_layout(style_tensor, channels_last), layers.style, compute);
        for (const auto& layer : layers.style) {
          auto gram = gram_matrix(features.at(layer)) * blend[i];
          auto& slot = targets.style_grams[layer];
          slot = slot.defined() ? slot + gram : gram;
        }
      }
    }

    // Initial image: the previous level upsampled, else what options.init asks for.
    {
      torch::NoGradGuard no_grad;
      if (image.defined()) {
        image = torch::nn::functional::interpolate(image,
                                                   torch::nn::functional::InterpolateFuncOptions()
                                                       .size(std::vector<int64_t>{height, width})
                                                       .mode(torch::kBicubic)
                                                       .align_corners(false))
                    .clamp(0, 1);
      } else if (options.init == InitKind::content) {
        image = content_tensor.clone();
      } else if (options.init == InitKind::noise) {
        image = torch::rand({1, 3, height, width}, generator, float_opts).to(device_);
      } else {
        image = image_to_tensor(
            resize_to(style_images.front(), static_cast<int>(width), static_cast<int>(height)),
            device_);
      }
      image = image.contiguous();
    }
    image.set_requires_grad(true);

    int evaluations = 0;
    double last_content = 0, last_style = 0, last_tv = 0;
    auto closure = [&]() -> torch::Tensor {
      if (callbacks.cancel && callbacks.cancel->load()) throw Cancelled();
      if (image.grad().defined()) image.mutable_grad().zero_();
      const auto features =
          vgg_->forward(to_network_layout(image, channels_last), all_layers, compute);
      const auto loss = perceptual_loss(features, image, targets.content_features,
                                        targets.style_grams, layers, weights);
      loss.total.backward();
      last_content = loss.content.item<double>();
      last_style = loss.style.item<double>();
      last_tv = loss.tv.item<double>();
      ++evaluations;
      ++result.iterations;

      if (callbacks.on_progress) {
        GatysProgress p;
        p.iteration = result.iterations;
        p.total = total_steps;
        p.scale = static_cast<int>(level_index);
        p.scales = static_cast<int>(plan.size());
        p.width = static_cast<int>(width);
        p.height = static_cast<int>(height);
        p.content_loss = last_content;
        p.style_loss = last_style;
        p.tv_loss = last_tv;
        p.total_loss = last_content + last_style + last_tv;
        p.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
        const double work = done_work + static_cast<double>(evaluations) * level.size * level.size;
        p.eta_seconds = work > 0 ? p.elapsed_seconds * (total_work - work) / work : 0;
        callbacks.on_progress(p);
      }
      if (callbacks.on_preview && options.preview_every > 0 &&
          result.iterations % options.preview_every == 0) {
        callbacks.on_preview(tensor_to_image(image.detach()), result.iterations);
      }
      return loss.total;
    };

    if (options.optimizer == Optimizer::lbfgs) {
      torch::optim::LBFGS optimizer(std::vector<torch::Tensor>{image},
                                    torch::optim::LBFGSOptions(lr)
                                        .max_iter(level.steps)
                                        .max_eval(level.steps)
                                        .history_size(options.lbfgs_history)
                                        .tolerance_grad(0)
                                        .tolerance_change(1e-12)
                                        .line_search_fn("strong_wolfe"));
      optimizer.step(closure);
    } else {
      torch::optim::Adam optimizer(std::vector<torch::Tensor>{image},
                                   torch::optim::AdamOptions(lr));
      for (int step = 0; step < level.steps; ++step) {
        closure();
        optimizer.step();
      }
    }
    done_work += level_work(level);
    result.content_loss = last_content;
    result.style_loss = last_style;
    result.tv_loss = last_tv;
    image = image.detach();
  }

  cv::Mat output = tensor_to_image(image);
  if (options.original_colors) output = preserve_original_colors(output, final_content);
  if (options.blend < 1.0) output = blend_with_original(output, final_content, options.blend);
  result.image = output;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

}  // namespace pastiche
