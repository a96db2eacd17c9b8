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

torch::Tensor to_network_layout(const torch::Tensor& x, bool channels_last) {
  return channels_last ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

void check_inputs(const cv::Mat& content, const std::vector<cv::Mat>& styles,
                  const GatysOptions& options, const cv::Mat& init_image) {
  options.validate();
  if (content.empty()) throw InputError("content image is empty");
  if (options.init == InitKind::image && init_image.empty())
    throw InputError("init: image needs the picture to start from (--init-image)");
  if (options.init != InitKind::image && !init_image.empty())
    throw InputError(std::string("init: a picture to start from was given, but init is ") +
                     to_string(options.init) + " (use init image)");
  if (styles.empty()) throw InputError("at least one style image is needed");
  if (!options.style_blend.empty() && options.style_blend.size() != styles.size())
    throw InputError("style_blend: needs one weight per style image (" +
                     std::to_string(styles.size()) + " styles, " +
                     std::to_string(options.style_blend.size()) + " weights)");
}

// Blend weights, normalised: the target Gram is the weighted mean of the styles' Grams.
std::vector<double> blend_weights(size_t styles, const std::vector<double>& asked) {
  std::vector<double> blend(styles, 1.0 / static_cast<double>(styles));
  if (asked.empty()) return blend;
  double sum = 0;
  for (double w : asked) sum += w;
  for (size_t i = 0; i < styles; ++i) blend[i] = asked[i] / sum;
  return blend;
}

// L-BFGS's first step is lr / |gradient|_1: on an image of N values that is ~1/N of a useful
// step, and the line search then spends ~6 evaluations growing it tenfold each. Its first
// iteration instead starts at a mean change of this much per value (of [0,1]).
constexpr double kFirstStepMeanChange = 0.02;

// Work is proportional to pixels x evaluations: the ETA across levels of different sizes.
double level_work(const ScaleLevel& level) {
  return static_cast<double>(level.steps) * level.size * level.size;
}

// Everything one scale level needs, computed once before its optimisation starts.
struct LevelTargets {
  FeatureMap content_features;
  FeatureMap style_grams;
};

// The optimisation variable's start at a level: the previous level's result carried up, else
// what options.init asks for. RGB [0,1], NCHW contiguous.
torch::Tensor upsample(const torch::Tensor& x, int64_t height, int64_t width) {
  return torch::nn::functional::interpolate(x, torch::nn::functional::InterpolateFuncOptions()
                                                   .size(std::vector<int64_t>{height, width})
                                                   .mode(torch::kBicubic)
                                                   .align_corners(false));
}

torch::Tensor initial_image(const torch::Tensor& previous, const torch::Tensor& previous_content,
                            const torch::Tensor& content, const cv::Mat& first_style,
                            const cv::Mat& init_image, const GatysOptions& options,
                            at::Generator& generator, torch::Device device) {
  torch::NoGradGuard no_grad;
  const auto height = content.size(2), width = content.size(3);
  torch::Tensor image;
  if (previous.defined()) {
    // The coarser result, plus the photo's detail that the coarser level could not hold (the
    // photo minus its own upsampled coarse version): the finer level starts from the coarse
    // stylisation without the blur of upsampling.
    image =
        (upsample(previous, height, width) + content - upsample(previous_content, height, width))
            .clamp(0, 1);
  } else if (options.init == InitKind::content) {
    image = content.clone();
  } else if (options.init == InitKind::noise) {
    image =
        torch::rand({1, 3, height, width}, generator, torch::TensorOptions().dtype(torch::kFloat32))
            .to(device);
  } else {
    const cv::Mat& start = options.init == InitKind::image ? init_image : first_style;
    image = image_to_tensor(resize_to(start, static_cast<int>(width), static_cast<int>(height)),
                            device);
  }
  return image.contiguous();
}

// Thrown by an evaluation to end a coarse level that has converged (see level_converged): the
// optimisers have no other way out of a step, and one step is most of a level.
struct LevelConverged {};

// Runs up to `steps` evaluations of `closure` on `image` with the chosen optimiser, or until the
// closure throws LevelConverged.
void optimise(torch::Tensor& image, const std::function<torch::Tensor()>& closure, int steps,
              const GatysOptions& options, const std::function<int()>& evaluations) {
  const double lr = options.learning_rate > 0
                        ? options.learning_rate
                        : (options.optimizer == Optimizer::lbfgs ? 1.0 : 0.02);
  try {
    if (options.optimizer == Optimizer::lbfgs) {
      const bool scale_first = options.learning_rate <= 0;
      torch::optim::LBFGS optimizer(
          std::vector<torch::Tensor>{image},
          torch::optim::LBFGSOptions(
              scale_first ? kFirstStepMeanChange * static_cast<double>(image.numel()) : lr)
              .max_iter(scale_first ? 1 : steps)
              .max_eval(steps)
              .history_size(options.lbfgs_history)
              .tolerance_grad(0)
              .tolerance_change(1e-12)
              .line_search_fn("strong_wolfe"));
      optimizer.step(closure);
      const int left = steps - evaluations();
      if (scale_first && left > 0) {
        // The rest at the usual step: step() keeps its history between calls.
        static_cast<torch::optim::LBFGSOptions&>(optimizer.param_groups()[0].options())
            .lr(lr)
            .max_iter(left)
            .max_eval(left);
        optimizer.step(closure);
      }
    } else {
      torch::optim::Adam optimizer(std::vector<torch::Tensor>{image},
                                   torch::optim::AdamOptions(lr));
      for (int step = 0; step < steps; ++step) {
        closure();
        optimizer.step();
      }
    }
  } catch (const LevelConverged&) {
  }
}

}  // namespace

GatysEngine::GatysEngine(Vgg vgg, torch::Device device) : vgg_(std::move(vgg)), device_(device) {
  vgg_->to(device_);
  vgg_->eval();
}

// The photo's content features and the paintings' blended Gram matrices at one level's size.
static LevelTargets level_targets(Vgg vgg, const torch::Tensor& content,
                                  const std::vector<cv::Mat>& styles,
                                  const std::vector<double>& blend, const LayerChoice& layers,
                                  int style_size, const ComputeFormat& format,
                                  torch::Device device) {
  torch::NoGradGuard no_grad;
  LevelTargets targets;
  targets.content_features =
      vgg->forward(to_network_layout(content, format.channels_last), layers.content, format.dtype);
  for (size_t i = 0; i < styles.size(); ++i) {
    const auto style = image_to_tensor(resize_longest(styles[i], style_size), device);
    const auto features =
        vgg->forward(to_network_layout(style, format.channels_last), layers.style, format.dtype);
    for (const auto& layer : layers.style) {
      auto gram = gram_matrix(features.at(layer)) * blend[i];
      auto& slot = targets.style_grams[layer];
      slot = slot.defined() ? slot + gram : gram;
    }
  }
  return targets;
}

GatysResult GatysEngine::run(const cv::Mat& content, const std::vector<cv::Mat>& styles,
                             const GatysOptions& options, const GatysCallbacks& callbacks,
                             const cv::Mat& init_image) {
  check_inputs(content, styles, options, init_image);
  const auto start = Clock::now();
  const auto layers = choose_layers(vgg_, options.style_layers, options.content_layers);
  const auto all_layers = union_of(layers.style, layers.content);
  const PerceptualWeights weights{options.content_weight, options.style_weight, options.tv_weight,
                                  options.style_layer_weights};
  const auto plan = plan_schedule(options);
  const auto blend = blend_weights(styles.size(), options.style_blend);
  const auto format = resolve_compute_format(options.precision, options.layout, device_);
  auto generator = at::detail::createCPUGenerator(options.seed);

  GatysResult result;
  result.style_layers = layers.style;
  result.content_layers = layers.content;
  if (!layers.note.empty()) result.notes.push_back(layers.note);
  for (const auto& level : plan) result.schedule.push_back(level.size);
  result.precision = format.precision_name();
  result.layout = format.layout_name();

  const cv::Mat final_content = resize_longest(content, options.size);
  std::vector<cv::Mat> style_images = styles;
  if (options.match_style_colors)
    for (auto& s : style_images) s = match_color_histogram(s, final_content);

  double total_work = 0, done_work = 0;
  int total_steps = 0;
  for (const auto& level : plan) {
    total_work += level_work(level);
    total_steps += level.steps;
  }

  torch::Tensor image;  // the optimisation variable, RGB [0,1] NCHW contiguous, on device_
  torch::Tensor previous_content;
  for (size_t level_index = 0; level_index < plan.size(); ++level_index) {
    const auto& level = plan[level_index];
    const auto content_tensor = image_to_tensor(resize_longest(content, level.size), device_);
    const int style_size =
        std::max(16, static_cast<int>(std::lround(level.size * options.style_scale)));
    const auto targets = level_targets(vgg_, content_tensor, style_images, blend, layers,
                                       style_size, format, device_);
    image = initial_image(image, previous_content, content_tensor, style_images.front(), init_image,
                          options, generator, device_);
    previous_content = content_tensor;
    image.set_requires_grad(true);

    int evaluations = 0;
    // A coarse level may stop once converged; it then hands on its best point, not the line
    // search's last trial.
    const bool may_stop = level_index + 1 < plan.size() && options.tolerance > 0;
    std::vector<double> losses;  // this level's total loss at each evaluation
    torch::Tensor best_image;
    // One evaluation: forward through the loss network, the weighted losses, their gradient;
    // then progress and, now and then, a preview.
    auto closure = [&]() -> torch::Tensor {
      if (callbacks.cancel && callbacks.cancel->load()) throw Cancelled();
      if (image.grad().defined()) image.mutable_grad().zero_();
      const auto features =
          vgg_->forward(to_network_layout(image, format.channels_last), all_layers, format.dtype);
      const auto loss = perceptual_loss(features, image, targets.content_features,
                                        targets.style_grams, layers, weights);
      loss.total.backward();
      result.content_loss = loss.content.item<double>();
      result.style_loss = loss.style.item<double>();
      result.tv_loss = loss.tv.item<double>();
      losses.push_back(result.content_loss + result.style_loss + result.tv_loss);
      if (may_stop && losses.back() <= *std::min_element(losses.begin(), losses.end()))
        best_image = image.detach().clone();
      ++evaluations;
      ++result.iterations;
      if (callbacks.on_progress) {
        GatysProgress p;
        p.iteration = result.iterations;
        p.total = total_steps;
        p.scale = static_cast<int>(level_index);
        p.scales = static_cast<int>(plan.size());
        p.width = static_cast<int>(content_tensor.size(3));
        p.height = static_cast<int>(content_tensor.size(2));
        p.content_loss = result.content_loss;
        p.style_loss = result.style_loss;
        p.tv_loss = result.tv_loss;
        p.total_loss = result.content_loss + result.style_loss + result.tv_loss;
        p.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
        const double work = done_work + static_cast<double>(evaluations) * level.size * level.size;
        p.eta_seconds = work > 0 ? p.elapsed_seconds * (total_work - work) / work : 0;
        callbacks.on_progress(p);
      }
      if (callbacks.on_preview && options.preview_every > 0 &&
          result.iterations % options.preview_every == 0) {
        callbacks.on_preview(tensor_to_image(image.detach()), result.iterations);
      }
      if (may_stop && level_converged(losses, options.tolerance)) throw LevelConverged();
      return loss.total;
    };
    optimise(image, closure, level.steps, options, [&] { return evaluations; });
    if (best_image.defined()) image = best_image;
    result.level_evaluations.push_back(evaluations);
    // A level that stopped early gives its unused evaluations back to the plan (progress, ETA).
    const ScaleLevel ran{level.size, evaluations};
    total_work -= level_work(level) - level_work(ran);
    total_steps -= level.steps - evaluations;
    done_work += level_work(ran);
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
