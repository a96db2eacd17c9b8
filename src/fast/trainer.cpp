#include "fast/trainer.h"

#include <spdlog/spdlog.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <set>

#include "common/error.h"
#include "common/runtime.h"
#include "fast/model_file.h"
#include "image/image_io.h"
#include "image/tensor_convert.h"
#include "perceptual/layers.h"
#include "perceptual/losses.h"
#include "vgg/vgg.h"

namespace pastiche {

namespace fs = std::filesystem;

namespace {

constexpr int kDefaultIterations = 2000;
constexpr int kMaxCachedImages = 512;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

bool is_image_file(const fs::path& p) {
  auto ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp" || ext == ".bmp";
}

std::vector<std::string> list_images(const std::string& dir) {
  if (!fs::is_directory(dir))
    throw InputError("dataset '" + dir + "' is not a folder; give a folder of photos (--dataset)");
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && is_image_file(entry.path()))
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  if (files.empty())
    throw InputError("dataset '" + dir + "' contains no images (.jpg, .png, .webp, .bmp)");
  return files;
}

std::string default_title(const std::string& name) {
  std::string t = name;
  bool start = true;
  for (auto& c : t) {
    if (c == '_' || c == '-') c = ' ';
    if (start && std::isalpha(static_cast<unsigned char>(c)))
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    start = c == ' ';
  }
  return t;
}

std::vector<std::string> union_of(const std::vector<std::string>& a,
                                  const std::vector<std::string>& b) {
  std::vector<std::string> out = a;
  for (const auto& x : b)
    if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
  return out;
}

std::string param_key(const torch::Tensor& p) {
  return c10::guts::to_string(p.unsafeGetTensorImpl());
}

}  // namespace

std::string checkpoint_path_for(const std::string& model_path) {
  return model_path + ".ckpt";
}

int TrainOptions::total_iterations(int dataset_images) const {
  if (iterations > 0) return iterations;
  if (epochs > 0) return std::max(1, static_cast<int>(std::ceil(epochs * dataset_images / batch)));
  return kDefaultIterations;
}

void TrainOptions::validate() const {
  if (styles.empty()) throw InputError("give at least one style image (--style)");
  std::set<std::string> names;
  for (const auto& s : styles) {
    if (s.image.empty()) throw InputError("style image path is empty (--style)");
    const auto name = s.name.empty() ? fs::path(s.image).stem().string() : s.name;
    if (!names.insert(name).second)
      throw InputError("two styles are named '" + name + "'; give distinct --name values");
  }
  if (dataset.empty()) throw InputError("give a folder of training photos (--dataset)");
  if (output.empty()) throw InputError("give the model file to write (-o MODEL.safetensors)");
  if (fs::path(output).extension() != ".safetensors")
    throw InputError("output '" + output + "' must end in .safetensors");
  if (size < 32 || size > 2048)
    throw InputError("size must be in 32..2048 (got " + std::to_string(size) + ")");
  if (style_size != 0 && (style_size < 32 || style_size > 4096))
    throw InputError("style-size must be 0 (= size) or in 32..4096");
  if (batch < 1 || batch > 256) throw InputError("batch must be in 1..256");
  if (!(learning_rate > 0 && learning_rate < 1)) throw InputError("lr must be in (0, 1)");
  if (iterations < 0) throw InputError("iterations must be >= 0");
  if (!(epochs >= 0)) throw InputError("epochs must be >= 0");
  if (iterations > 0 && epochs > 0)
    throw InputError("give either --iterations or --epochs, not both");
  if (!(content_weight >= 0) || !(style_weight > 0) || !(tv_weight >= 0))
    throw InputError("weights must be >= 0 (style weight > 0)");
  if (!style_layer_weights.empty() && !style_layers.empty() &&
      style_layer_weights.size() != style_layers.size())
    throw InputError("style-layer-weights needs one weight per style layer (" +
                     std::to_string(style_layers.size()) + ")");
  TransformerNetOptions{width, res_blocks, static_cast<int64_t>(styles.size())}.validate();
  if (checkpoint_every < 0) throw InputError("checkpoint-every must be >= 0");
  if (log_every < 1) throw InputError("log-every must be >= 1");
  if (preview_size < 32 || preview_size > 4096)
    throw InputError("preview-size must be in 32..4096");
  if (resume && !init_from.empty())
    throw InputError(
        "give either --resume (continue this run) or --init-from (start from another "
        "model), not both");
}

// Everything a training step needs: loss network, targets, transform network, optimiser.
struct TrainStepper::State {
  TrainOptions options;
  torch::Device device = torch::kCPU;
  Vgg vgg{nullptr};
  std::vector<std::string> style_layers, content_layers, all_layers;
  std::vector<double> style_layer_weights;
  std::vector<std::map<std::string, torch::Tensor>> style_grams;  // per style
  std::vector<cv::Mat> style_images;
  std::string note;
  TransformerNet net{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer;
  ComputeFormat format;  // both networks' convolutions (the parameters stay float32)

  explicit State(const TrainOptions& o) : options(o) {
    options.validate();
    const auto vgg_path = options.vgg.empty() ? default_vgg_weights_path() : options.vgg;
    if (vgg_path.empty())
      throw InputError("no VGG weights found; give --vgg FILE or set PASTICHE_VGG");
    vgg = Vgg(vgg_path);
    vgg->eval();
    for (auto& p : vgg->parameters()) p.set_requires_grad(false);

    const auto choice = choose_layers(vgg, options.style_layers, options.content_layers);
    style_layers = choice.style;
    content_layers = choice.content;
    note = choice.note;
    style_layer_weights = options.style_layer_weights;
    if (!style_layer_weights.empty() && style_layer_weights.size() != style_layers.size())
      throw InputError("style-layer-weights needs one weight per style layer (" +
                       join(style_layers) + ")");
    all_layers = union_of(style_layers, content_layers);

    format = resolve_compute_format(options.precision, options.layout, device);
    const int style_side = options.style_size > 0 ? options.style_size : options.size;
    torch::NoGradGuard no_grad;
    for (const auto& spec : options.styles) {
      cv::Mat image;
      try {
        image = load_image(spec.image);
      } catch (const InputError& e) {
        throw InputError("cannot load style image '" + spec.image + "': " + e.what());
      }
      style_images.push_back(image);
      // Targets in float32 whatever the training precision.
      auto x = image_to_tensor(resize_longest(image, style_side), device)
                   .contiguous(format.memory_format());
      auto features = vgg->forward(x, style_layers);
      std::map<std::string, torch::Tensor> grams;
      for (const auto& layer : style_layers) grams[layer] = gram_matrix(features.at(layer));
      style_grams.push_back(std::move(grams));
    }

    torch::manual_seed(options.seed);
    net = TransformerNet(TransformerNetOptions{options.width, options.res_blocks,
                                               static_cast<int64_t>(options.styles.size())});
    net->to(device);
    if (format.channels_last) {
      for (auto& p : net->parameters())
        if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
    }
    optimizer = std::make_unique<torch::optim::Adam>(
        net->parameters(), torch::optim::AdamOptions(options.learning_rate));
  }

  struct Losses {
    double content = 0, style = 0, tv = 0, total = 0;
  };

  Losses step(const torch::Tensor& batch, int64_t style_index) {
    net->train();
    const auto x = format.apply(batch.to(device));
    std::map<std::string, torch::Tensor> content_targets;
    {
      torch::NoGradGuard no_grad;
      content_targets = vgg->forward(x.to(torch::kFloat), content_layers, format.dtype);
    }
    optimizer->zero_grad();
    const auto y = net->forward(x, net->style_vector(style_index).to(device)).to(torch::kFloat);
    const auto features = vgg->forward(y, all_layers, format.dtype);
    const auto loss = perceptual_loss(
        features, y, content_targets, style_grams[static_cast<size_t>(style_index)],
        {style_layers, content_layers, ""},
        {options.content_weight, options.style_weight, options.tv_weight, style_layer_weights});
    loss.total.backward();
    optimizer->step();
    Losses out;
    out.content = loss.content.item<double>();
    out.style = loss.style.item<double>();
    out.tv = loss.tv.item<double>();
    out.total = out.content + out.style + out.tv;
    if (!std::isfinite(out.total))
      throw std::runtime_error("training diverged (loss is not finite); lower --lr");
    return out;
  }

  // Adam state as tensors "adam.exp_avg.<param>", "adam.exp_avg_sq.<param>" plus the step count.
  std::map<std::string, torch::Tensor> optimizer_tensors(int64_t* adam_step) const {
    std::map<std::string, torch::Tensor> out;
    *adam_step = 0;
    for (const auto& p : net->named_parameters()) {
      auto it = optimizer->state().find(param_key(p.value()));
      if (it == optimizer->state().end()) continue;
      const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
      out["adam.exp_avg." + p.key()] = s.exp_avg().contiguous();
      out["adam.exp_avg_sq." + p.key()] = s.exp_avg_sq().contiguous();
      *adam_step = s.step();
    }
    return out;
  }

  void restore_optimizer(const std::map<std::string, torch::Tensor>& tensors, int64_t adam_step,
                         const std::string& what) {
    if (adam_step <= 0) return;
    for (const auto& p : net->named_parameters()) {
      auto m = tensors.find("adam.exp_avg." + p.key());
      auto v = tensors.find("adam.exp_avg_sq." + p.key());
      if (m == tensors.end() || v == tensors.end())
        throw InputError("checkpoint " + what + " lacks the optimiser state of '" + p.key() +
                         "'; start again without --resume");
      auto state = std::make_unique<torch::optim::AdamParamState>();
      state->step(adam_step);
      state->exp_avg(
          m->second.to(torch::kFloat).to(device).contiguous(p.value().suggest_memory_format()));
      state->exp_avg_sq(
          v->second.to(torch::kFloat).to(device).contiguous(p.value().suggest_memory_format()));
      optimizer->state()[param_key(p.value())] = std::move(state);
    }
  }
};

TrainStepper::TrainStepper(const TrainOptions& options)
    : state_(std::make_unique<State>(options)) {}
TrainStepper::~TrainStepper() = default;
double TrainStepper::step(const torch::Tensor& batch) {
  return state_->step(batch, 0).total;
}
int64_t TrainStepper::parameters() const {
  return state_->net->parameter_count();
}

namespace {

// Training photos: decoded once and kept in memory for small datasets, read per use otherwise.
class Dataset {
 public:
  explicit Dataset(std::vector<std::string> files) : files_(std::move(files)) {
    if (files_.size() <= static_cast<size_t>(kMaxCachedImages)) {
      std::vector<std::string> usable;
      for (const auto& f : files_) {
        try {
          cache_.push_back(resize_longest_if_larger(load_image(f), 1024));
          usable.push_back(f);
        } catch (const InputError& e) {
          spdlog::warn("skipping training image {}: {}", f, e.what());
        }
      }
      files_ = std::move(usable);
      if (files_.empty()) throw InputError("no readable images in the dataset");
    }
  }
  size_t size() const { return files_.size(); }
  const std::string& file(size_t i) const { return files_[i]; }
  cv::Mat image(size_t i) const {
    if (!cache_.empty()) return cache_[i];
    return resize_longest_if_larger(load_image(files_[i]), 1024);
  }

 private:
  static cv::Mat resize_longest_if_larger(const cv::Mat& m, int side) {
    return std::max(m.cols, m.rows) > side ? resize_longest(m, side) : m;
  }
  std::vector<std::string> files_;
  std::vector<cv::Mat> cache_;
};

// A random square crop (60-100 % of the shorter side), resized to size x size, flipped at random.
cv::Mat random_crop(const cv::Mat& image, int size, std::mt19937_64& rng) {
  const int shorter = std::min(image.cols, image.rows);
  std::uniform_real_distribution<double> scale(0.6, 1.0);
  const int side = std::max(1, static_cast<int>(std::lround(shorter * scale(rng))));
  std::uniform_int_distribution<int> ox(0, image.cols - side), oy(0, image.rows - side);
  const int x = ox(rng), y = oy(rng);
  cv::Mat crop;
  cv::resize(image(cv::Rect(x, y, side, side)), crop, cv::Size(size, size), 0, 0,
             side > size ? cv::INTER_AREA : cv::INTER_CUBIC);
  if (std::bernoulli_distribution(0.5)(rng)) cv::flip(crop, crop, 1);
  return crop;
}

// Batch of iteration `iteration`: deterministic in (seed, iteration), so a resumed run sees the
// same photos as an uninterrupted one. Items run through shuffled epochs.
torch::Tensor make_batch(const Dataset& data, const TrainOptions& o, int iteration) {
  std::vector<torch::Tensor> items;
  const auto n = static_cast<int64_t>(data.size());
  for (int k = 0; k < o.batch; ++k) {
    const int64_t global = static_cast<int64_t>(iteration) * o.batch + k;
    const int64_t epoch = global / n, pos = global % n;
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 shuffle_rng(o.seed * 1000003ULL + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(global) + 1);
    items.push_back(image_to_tensor(random_crop(
        data.image(static_cast<size_t>(order[static_cast<size_t>(pos)])), o.size, rng)));
  }
  return torch::cat(items, 0);
}

FastModelMeta describe(const TrainStepper::State& s, const TrainOptions& o) {
  FastModelMeta meta;
  meta.network = s.net->options();
  for (size_t i = 0; i < o.styles.size(); ++i) {
    const auto& spec = o.styles[i];
    StyleMeta style;
    style.name = spec.name.empty() ? fs::path(spec.image).stem().string() : spec.name;
    style.title = spec.title.empty() ? default_title(style.name) : spec.title;
    style.artist = spec.artist;
    style.description = spec.description;
    style.thumbnail_jpeg = encode_image(resize_longest(s.style_images[i], 160), "jpeg", 85);
    meta.styles.push_back(std::move(style));
  }
  meta.loss = {{"style_layers", s.style_layers},
               {"style_layer_weights", s.style_layer_weights},
               {"content_layers", s.content_layers},
               {"content_weight", o.content_weight},
               {"style_weight", o.style_weight},
               {"tv_weight", o.tv_weight},
               {"losses", "relative (perceptual/losses.h)"},
               {"vgg", fs::path(s.vgg->info().path).filename().string()}};
  meta.training = {{"size", o.size},      {"style_size", o.style_size > 0 ? o.style_size : o.size},
                   {"batch", o.batch},    {"learning_rate", o.learning_rate},
                   {"optimizer", "adam"}, {"precision", s.format.precision_name()},
                   {"seed", o.seed},      {"dataset", fs::path(o.dataset).filename().string()}};
  return meta;
}

// A saved model or checkpoint whose network is the one being trained.
FastModel load_matching_model(const TrainStepper::State& state, const std::string& path,
                              std::map<std::string, torch::Tensor>* extra,
                              std::map<std::string, std::string>* metadata) {
  const auto& o = state.options;
  auto saved = load_fast_model(path, extra, metadata);
  const auto& net = saved.meta().network;
  if (net.width != o.width || net.res_blocks != o.res_blocks ||
      net.styles != static_cast<int64_t>(o.styles.size()))
    throw InputError("'" + path + "' holds network " + net.to_json().dump() +
                     ", which differs from the requested one; use the same --width, "
                     "--res-blocks and number of styles");
  return saved;
}

void copy_parameters(const FastModel& from, TrainStepper::State& to) {
  torch::NoGradGuard no_grad;
  auto src = from.net()->named_parameters();
  for (auto& p : to.net->named_parameters()) p.value().copy_(src[p.key()]);
}

cv::Mat render_preview(TransformerNet& net, const cv::Mat& photo, const ComputeFormat& format) {
  torch::NoGradGuard no_grad;
  net->eval();
  std::vector<cv::Mat> panels{photo};
  const auto x = format.apply(image_to_tensor(photo));
  for (int64_t s = 0; s < net->options().styles; ++s)
    panels.push_back(tensor_to_image(net->forward(x, net->style_vector(s))));
  cv::Mat out;
  cv::hconcat(panels, out);
  net->train();
  return out;
}

}  // namespace

TrainResult train_fast_model(const TrainOptions& options, const TrainCallbacks& callbacks) {
  const auto run_start = std::chrono::steady_clock::now();
  TrainStepper::State state(options);
  const auto& o = state.options;
  const Dataset data(list_images(o.dataset));
  const int total = o.total_iterations(static_cast<int>(data.size()));

  TrainResult result;
  result.model_path = o.output;
  result.checkpoint_path = checkpoint_path_for(o.output);
  result.style_layers = state.style_layers;
  result.content_layers = state.content_layers;
  result.dataset_images = static_cast<int>(data.size());
  result.parameters = state.net->parameter_count();
  if (!state.note.empty()) result.notes.push_back(state.note);
  const auto stem = (fs::path(o.output).parent_path() / fs::path(o.output).stem()).string();
  result.log_path = o.log_path.empty() ? stem + ".log.jsonl" : o.log_path;
  if (!fs::path(o.output).parent_path().empty())
    fs::create_directories(fs::path(o.output).parent_path());

  auto meta = describe(state, o);
  cv::Mat preview_photo;
  {
    const auto source = o.preview_image.empty() ? data.file(0) : o.preview_image;
    try {
      preview_photo = resize_longest(load_image(source), o.preview_size);
    } catch (const InputError& e) {
      throw InputError("cannot load preview image '" + source + "': " + e.what());
    }
  }

  int start_iteration = 0;
  double previous_seconds = 0;
  if (o.resume) {
    if (!fs::exists(result.checkpoint_path))
      throw InputError("no checkpoint '" + result.checkpoint_path +
                       "' to resume from; run without --resume to start");
    std::map<std::string, torch::Tensor> extra;
    std::map<std::string, std::string> metadata;
    const auto saved = load_matching_model(state, result.checkpoint_path, &extra, &metadata);
    nlohmann::json ckpt;
    try {
      ckpt = nlohmann::json::parse(metadata.at("checkpoint"));
    } catch (const std::exception&) {
      throw InputError("'" + result.checkpoint_path + "' is a model, not a training checkpoint");
    }
    copy_parameters(saved, state);
    state.restore_optimizer(extra, ckpt.at("adam_step").get<int64_t>(), result.checkpoint_path);
    start_iteration = ckpt.at("iteration").get<int>();
    previous_seconds = ckpt.value("seconds", 0.0);
    result.resumed_from = start_iteration;
    if (start_iteration >= total)
      spdlog::info("checkpoint is already at iteration {} of {}", start_iteration, total);
  } else if (!o.init_from.empty()) {
    copy_parameters(load_matching_model(state, o.init_from, nullptr, nullptr), state);
    result.notes.push_back("started from the weights of " + o.init_from);
  }

  std::ofstream log(result.log_path, o.resume ? std::ios::app : std::ios::trunc);
  if (!log) throw InputError("cannot write the loss log '" + result.log_path + "'");

  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  };
  auto write_checkpoint = [&](int iteration) {
    int64_t adam_step = 0;
    auto tensors = state.optimizer_tensors(&adam_step);
    const nlohmann::json ckpt = {{"iteration", iteration},
                                 {"adam_step", adam_step},
                                 {"seconds", previous_seconds + elapsed()},
                                 {"total_iterations", total}};
    FastModel model(state.net, meta);
    save_fast_model(result.checkpoint_path, model, false, tensors, {{"checkpoint", ckpt.dump()}});
    char name[32];
    std::snprintf(name, sizeof name, ".preview-%06d.png", iteration);
    result.preview_path = stem + name;
    save_image(render_preview(state.net, preview_photo, state.format), result.preview_path);
    if (callbacks.on_checkpoint)
      callbacks.on_checkpoint(result.checkpoint_path, result.preview_path, iteration);
  };

  const auto loop_start = std::chrono::steady_clock::now();
  int iteration = start_iteration;
  while (iteration < total) {
    if (callbacks.cancel && callbacks.cancel->load()) {
      write_checkpoint(iteration);
      throw Cancelled();
    }
    const auto batch = make_batch(data, o, iteration);
    const auto style_index = static_cast<int64_t>(iteration % static_cast<int>(o.styles.size()));
    const auto losses = state.step(batch, style_index);
    ++iteration;
    if (iteration == start_iteration + 1) result.first_loss = losses.total;
    result.final_loss = losses.total;
    result.final_style_loss = losses.style;
    result.final_content_loss = losses.content;

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - loop_start).count();
    TrainProgress progress;
    progress.iteration = iteration;
    progress.total = total;
    progress.content_loss = losses.content;
    progress.style_loss = losses.style;
    progress.tv_loss = losses.tv;
    progress.total_loss = losses.total;
    progress.elapsed_seconds = elapsed();
    progress.eta_seconds = seconds / (iteration - start_iteration) * (total - iteration);
    if (iteration % o.log_every == 0 || iteration == total || iteration == start_iteration + 1) {
      log << nlohmann::json{{"iteration", iteration},
                            {"style_index", style_index},
                            {"content", losses.content},
                            {"style", losses.style},
                            {"tv", losses.tv},
                            {"total", losses.total},
                            {"seconds", previous_seconds + elapsed()}}
                 .dump()
          << "\n";
      log.flush();
    }
    if (callbacks.on_progress) callbacks.on_progress(progress);
    if (o.checkpoint_every > 0 && iteration % o.checkpoint_every == 0 && iteration < total)
      write_checkpoint(iteration);
  }
  write_checkpoint(iteration);

  result.iterations = iteration;
  result.seconds = elapsed();
  result.total_seconds = previous_seconds + result.seconds;
  meta.training["iterations"] = iteration;
  meta.training["epochs"] = static_cast<double>(iteration) * o.batch / data.size();
  meta.training["dataset_images"] = data.size();
  meta.training["seconds"] = std::round(result.total_seconds);
  meta.training["threads"] = torch::get_num_threads();
  meta.training["final_loss"] = {{"content", result.final_content_loss},
                                 {"style", result.final_style_loss},
                                 {"total", result.final_loss}};
  save_fast_model(o.output, FastModel(state.net, meta), o.fp16);
  return result;
}

}  // namespace pastiche
