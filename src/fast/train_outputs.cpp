#include "fast/train_outputs.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstdio>
#include <filesystem>

#include "common/error.h"
#include "image/image_io.h"
#include "image/tensor_convert.h"

namespace pastiche {

namespace fs = std::filesystem;

namespace {

// "starry_night" -> "Starry Night"
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

std::string output_stem(const std::string& output) {
  return (fs::path(output).parent_path() / fs::path(output).stem()).string();
}

}  // namespace

FastModelMeta describe_model(const TrainObjective& objective,
                             const TransformerNetOptions& network) {
  const auto& o = objective.options();
  FastModelMeta meta;
  meta.network = network;
  for (size_t i = 0; i < o.styles.size(); ++i) {
    const auto& spec = o.styles[i];
    StyleMeta style;
    style.name = spec.name.empty() ? fs::path(spec.image).stem().string() : spec.name;
    style.title = spec.title.empty() ? default_title(style.name) : spec.title;
    style.artist = spec.artist;
    style.description = spec.description;
    style.thumbnail_jpeg =
        encode_image(resize_longest(objective.style_images()[i], 160), "jpeg", 85);
    meta.styles.push_back(std::move(style));
  }
  meta.loss = {{"style_layers", objective.style_layers()},
               {"style_layer_weights", objective.style_layer_weights()},
               {"content_layers", objective.content_layers()},
               {"content_weight", o.content_weight},
               {"style_weight", o.style_weight},
               {"tv_weight", o.tv_weight},
               {"losses", "relative (perceptual/losses.h)"},
               {"vgg", fs::path(objective.vgg_path()).filename().string()}};
  meta.training = {{"size", o.size},      {"style_size", o.style_size > 0 ? o.style_size : o.size},
                   {"batch", o.batch},    {"learning_rate", o.learning_rate},
                   {"optimizer", "adam"}, {"precision", objective.format().precision_name()},
                   {"seed", o.seed},      {"dataset", fs::path(o.dataset).filename().string()}};
  return meta;
}

std::string loss_log_path(const TrainOptions& options) {
  return options.log_path.empty() ? output_stem(options.output) + ".log.jsonl" : options.log_path;
}

std::string preview_path(const std::string& output, int iteration) {
  char name[32];
  std::snprintf(name, sizeof name, ".preview-%06d.png", iteration);
  return output_stem(output) + name;
}

cv::Mat load_preview_photo(const TrainOptions& options, const std::string& fallback) {
  const auto source = options.preview_image.empty() ? fallback : options.preview_image;
  try {
    return resize_longest(load_image(source), options.preview_size);
  } catch (const InputError& e) {
    throw InputError("cannot load preview image '" + source + "': " + e.what());
  }
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

LossLog::LossLog(const std::string& path, bool append)
    : out_(path, append ? std::ios::app : std::ios::trunc) {
  if (!out_) throw InputError("cannot write the loss log '" + path + "'");
}

void LossLog::write(int iteration, int64_t style_index, const StepLosses& losses, double seconds) {
  out_ << nlohmann::json{{"iteration", iteration},    {"style_index", style_index},
                         {"content", losses.content}, {"style", losses.style},
                         {"tv", losses.tv},           {"total", losses.total},
                         {"seconds", seconds}}
              .dump()
       << "\n";
  out_.flush();
}

}  // namespace pastiche
