#include "arbitrary/arbitrary_train_options.h"

#include <filesystem>

#include "arbitrary/decoder.h"
#include "common/compute_options.h"
#include "common/error.h"

namespace pastiche {

const OptionCatalog<ArbitraryTrainOptions>& arbitrary_train_option_catalog() {
  using T = ArbitraryTrainOptions;
  constexpr unsigned train = option_use::train;
  static const OptionCatalog<T> catalog = [] {
    OptionCatalog<T> c;
    c.push_back(integer_option("size", &T::size, 32, 2048, "Training crop side, px", train));
    c.push_back(integer_option("batch", &T::batch, 1, 256, "Batch size", train));
    c.push_back(number_option("learning_rate", &T::learning_rate, 0, 1, "Adam learning rate", train,
                              /*lo_open=*/true));
    c.back().cli = "--lr";
    c.push_back(integer_option(
        "iterations", &T::iterations, 1, 100000000,
        "Optimiser steps (relu1_1: batches of its least-squares fit, e.g. 64)", train));
    c.push_back(number_option("feature_weight", &T::feature_weight, 0, 1e6,
                              "Weight of the feature reconstruction loss against the pixel loss",
                              train));
    c.push_back(text_option("layer", &T::layer,
                            "Encoder layer the decoder inverts: relu3_1, relu2_1 or relu1_1 (a "
                            "cascade's levels; name the file LAYER.safetensors beside the others)",
                            train));
    c.push_back(integer_option("width", &T::width, 4, 256, "Decoder width (paper 64)", train));
    c.push_back(flag_option("fp16", &T::fp16, "Store the model as float16 (half the size)", train));
    c.push_back(integer_option("checkpoint_every", &T::checkpoint_every, 1, 100000000,
                               "Iterations between checkpoints and previews", train));
    c.push_back(text_option("preview_image", &T::preview_image,
                            "Photo for previews (default: the first training image)", train));
    c.push_back(text_option("preview_style", &T::preview_style,
                            "Painting the previews also transfer (default: reconstruction only)",
                            train));
    c.push_back(integer_option("preview_size", &T::preview_size, 32, 4096,
                               "Longest side of previews, px", train));
    c.push_back(text_option("log_path", &T::log_path,
                            "Loss log, JSON lines (default MODEL.log.jsonl)", train));
    c.back().cli = "--log";
    c.push_back(integer_option("log_every", &T::log_every, 1, 100000000,
                               "Iterations between log lines", train));
    c.push_back(flag_option("resume", &T::resume, "Continue from MODEL.safetensors.ckpt", train));
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

void ArbitraryTrainOptions::validate() const {
  validate_options(arbitrary_train_option_catalog(), *this);
  check_arbitrary_layer(layer, "layer");
  if (datasets.empty()) throw InputError("dataset: give at least one folder of images (--dataset)");
  if (output.empty()) throw InputError("output: give the model file to write (-o)");
  if (std::filesystem::path(output).extension() != ".safetensors")
    throw InputError("output: the model file must end in .safetensors");
}

}  // namespace pastiche
