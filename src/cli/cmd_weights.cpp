// `pastiche weights info FILE` and `pastiche weights fetch vgg19|vgg16`: inspect VGG weights and
// install pretrained ones (SHA-256 verified) into the models directory.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/progress_bar.h"
#include "common/error.h"
#include "vgg/vgg.h"
#include "vgg/weights_fetch.h"

namespace pastiche::cli {
namespace {

int total_convs(VggArch arch) {
  int n = 0;
  for (const auto& name : vgg_layer_names(arch)) n += name.rfind("conv", 0) == 0;
  return n;
}

std::string preprocessing_text(WeightConvention convention) {
  return convention == WeightConvention::torchvision
             ? "RGB [0,1] - mean (0.485, 0.456, 0.406), / std (0.229, 0.224, 0.225)"
             : "RGB [0,1] -> BGR x255 - mean (103.939, 116.779, 123.68)";
}

std::string convention_text(WeightConvention convention) {
  return convention == WeightConvention::torchvision
             ? "torchvision (features.N.weight, OIHW)"
             : "caffe (Keras export: blockB_convC/kernel, HWIO)";
}

nlohmann::json info_json(const VggWeightsInfo& info) {
  return {{"path", info.path},
          {"arch", to_string(info.arch)},
          {"arch_inferred", info.arch_inferred},
          {"convention", to_string(info.convention)},
          {"conv_layers", info.conv_layers},
          {"conv_layers_total", total_convs(info.arch)},
          {"complete", info.complete()},
          {"relu_layers", available_range(info, "relu")},
          {"available", info.available},
          {"preprocessing", preprocessing_text(info.convention)}};
}

void print_info(const VggWeightsInfo& info) {
  const std::string arch = to_string(info.arch);
  std::printf("file:           %s\n", info.path.c_str());
  std::printf("architecture:   %s%s\n", arch.c_str(),
              info.arch_inferred ? " (inferred: the blocks present fit VGG16 and VGG19)" : "");
  std::printf("convention:     %s\n", convention_text(info.convention).c_str());
  std::printf("convolutions:   %d of %d%s\n", info.conv_layers, total_convs(info.arch),
              info.complete() ? "" : " (partial)");
  std::printf("relu layers:    %s\n", available_range(info, "relu").c_str());
  std::printf("pool layers:    %s\n", available_range(info, "pool").c_str());
  std::printf("preprocessing:  %s\n", preprocessing_text(info.convention).c_str());
}

struct FetchArgs {
  FetchOptions options;
  bool json = false;
  bool quiet = false;
};

void run_fetch(FetchArgs& args) {
  FetchOptions options = args.options;
  const WeightsSource* source = nullptr;
  if (options.url.empty()) source = &find_weights_source(options.name);
  const std::string url = source ? source->url : options.url;
  const bool chatty = !args.quiet && !args.json;
  const std::string about =
      source && source->size_bytes > 0
          ? " (about " + std::to_string(source->size_bytes / 1'000'000) + " MB)"
          : "";
  auto bar = std::make_shared<ProgressBar>("download", chatty);
  auto started = std::make_shared<bool>(false);
  options.progress = [=, name = options.name](int64_t done, int64_t total) {
    if (chatty && !*started) {  // announced once the server answers
      std::fprintf(stderr, "downloading %s%s from %s\n", name.c_str(), about.c_str(), url.c_str());
      *started = true;
    }
    const double mb = 1e6;
    bar->update(static_cast<double>(done) / mb, total > 0 ? static_cast<double>(total) / mb : 0.0,
                std::to_string(done / 1'000'000) + " MB");
  };
  const FetchResult r = fetch_weights(options);
  bar->finish();
  if (args.json) {
    nlohmann::json j = info_json(r.info);
    j["url"] = r.url;
    j["sha256"] = r.sha256;
    j["verified"] = r.verified;
    j["already_present"] = r.already_present;
    j["bytes"] = r.bytes;
    print_json(j);
    return;
  }
  if (!r.verified) {
    std::fprintf(stderr,
                 "warning: download NOT verified (--insecure-skip-verify); its SHA-256 is %s: "
                 "compare it with a trusted source\n",
                 r.sha256.c_str());
  }
  std::printf("%s %s: %s (%lld bytes, sha256 %s%s)\n",
              r.already_present ? "already installed" : "installed", options.name.c_str(),
              r.path.c_str(), static_cast<long long>(r.bytes), r.sha256.c_str(),
              r.verified ? ", verified" : ", unverified");
  std::printf("layers: %s\n", available_range(r.info, "relu").c_str());
}

const bool weights_registered = register_command(50, [](CLI::App& app) {
  auto* weights = app.add_subcommand("weights", "Inspect or download VGG loss-network weights");
  weights->require_subcommand(1);

  auto info_path = std::make_shared<std::string>();
  auto info_json_flag = std::make_shared<bool>(false);
  auto* info = weights->add_subcommand(
      "info", "Architecture, convention and available layers of a VGG weights file");
  info->add_option("file", *info_path, "Weights file (.safetensors)")
      ->required()
      ->check(CLI::ExistingFile);
  info->add_flag("--json", *info_json_flag, "Print one JSON object");
  info->callback([info_path, info_json_flag] {
    const VggWeightsInfo result = inspect_vgg_weights(*info_path);
    if (*info_json_flag) {
      print_json(info_json(result));
    } else {
      print_info(result);
    }
  });

  auto args = std::make_shared<FetchArgs>();
  std::string names;
  for (const auto& s : weights_catalog()) names += (names.empty() ? "" : "|") + s.name;
  auto* fetch = weights->add_subcommand(
      "fetch", "Download pretrained torchvision VGG weights (safetensors, SHA-256 verified)");
  fetch->add_option("name", args->options.name, names + " (also the installed file name)")
      ->required();
  fetch->add_option("--dir", args->options.dir,
                    "Models directory (default: $PASTICHE_MODELS_DIR or "
                    "~/.local/share/pastiche/models)");
  fetch->add_option("--url", args->options.url, "Download from this URL instead (needs --sha256)");
  fetch->add_option("--sha256", args->options.sha256, "Expected SHA-256 of the file (hex)");
  fetch->add_flag("--insecure-skip-verify", args->options.insecure_skip_verify,
                  "Accept the file whatever its hash (prints the computed SHA-256)");
  fetch->add_option("--timeout", args->options.timeout_s, "Connect/read timeout, seconds")
      ->capture_default_str();
  fetch->add_flag("--json", args->json, "Print one JSON object");
  fetch->add_flag("-q,--quiet", args->quiet, "No progress output");
  fetch->callback([args] { run_fetch(*args); });
});

}  // namespace
}  // namespace pastiche::cli
