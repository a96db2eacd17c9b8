#include "fast/train_options.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "common/compute_options.h"
#include "common/error.h"
#include "fast/transformer_net.h"
#include "perceptual/loss_options.h"

namespace pastiche {

namespace fs = std::filesystem;

int TrainOptions::total_iterations(int dataset_images) const {
  if (iterations > 0) return iterations;
  if (epochs > 0) return std::max(1, static_cast<int>(std::ceil(epochs * dataset_images / batch)));
  return kDefaultTrainIterations;
}

const OptionCatalog<TrainOptions>& train_option_catalog() {
  using T = TrainOptions;
  constexpr unsigned train = option_use::train;
  static const OptionCatalog<T> catalog = [] {
    OptionCatalog<T> c;
    c.push_back(integer_option("size", &T::size, 32, 2048, "Training crop side, px", train));
    c.push_back(integer_option("style_size", &T::style_size, 32, 4096,
                               "Longest side of the style image, px (bigger = finer strokes)",
                               train, "--size"));
    c.push_back(integer_option("batch", &T::batch, 1, 256, "Batch size", train));
    c.push_back(number_option("learning_rate", &T::learning_rate, 0, 1, "Adam learning rate", train,
                              /*lo_open=*/true));
    c.back().cli = "--lr";
    c.push_back(integer_option("iterations", &T::iterations, 1, 100000000, "Optimiser steps", train,
                               "from --epochs, else " + std::to_string(kDefaultTrainIterations)));
    c.push_back(number_option("epochs", &T::epochs, 0, 1e6,
                              "Passes over the dataset (instead of --iterations)", train));
    append_loss_options(c, train);
    c.push_back(integer_option("width", &T::width, 1, 256, "Network width (paper 32)", train));
    c.push_back(
        integer_option("res_blocks", &T::res_blocks, 0, 32, "Residual blocks (paper 5)", train));
    c.push_back(flag_option("fp16", &T::fp16, "Store the model as float16 (half the size)", train));
    c.push_back(integer_option("checkpoint_every", &T::checkpoint_every, 1, 100000000,
                               "Iterations between checkpoints and previews", train,
                               "only at the end"));
    c.push_back(text_option("preview_image", &T::preview_image,
                            "Fixed validation photo for previews (default: first dataset image)",
                            train));
    c.push_back(integer_option("preview_size", &T::preview_size, 32, 4096,
                               "Longest side of previews, px", train));
    c.push_back(text_option("log_path", &T::log_path,
                            "Loss log, JSON lines (default MODEL.log.jsonl)", train));
    c.back().cli = "--log";
    c.push_back(integer_option("log_every", &T::log_every, 1, 100000000,
                               "Iterations between log lines", train));
    c.push_back(flag_option("resume", &T::resume, "Continue from MODEL.safetensors.ckpt", train));
    c.push_back(text_option("init_from", &T::init_from,
                            "Start from this model's weights (fine-tune; same network, fresh "
                            "optimiser)",
                            train));
    c.push_back(integer_option("seed", &T::seed, 0, INT64_MAX,
                               "Random seed (initialisation and data order)", train));
    c.push_back(text_option("vgg", &T::vgg,
                            "VGG weights (.safetensors; default $PASTICHE_VGG or the models "
                            "directory)",
                            train));
    append_compute_options(c, train);
    return c;
  }();
  return catalog;
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
  validate_options(train_option_catalog(), *this);
  if (iterations > 0 && epochs > 0)
    throw InputError("give either --iterations or --epochs, not both");
  if (!style_layer_weights.empty() && !style_layers.empty() &&
      style_layer_weights.size() != style_layers.size())
    throw InputError("style_layer_weights: needs one weight per style layer (" +
                     std::to_string(style_layers.size()) + ")");
  TransformerNetOptions{width, res_blocks, static_cast<int64_t>(styles.size())}.validate();
  if (resume && !init_from.empty())
    throw InputError(
        "give either --resume (continue this run) or --init-from (start from another "
        "model), not both");
}

}  // namespace pastiche
