#include "perceptual/layers.h"

#include <algorithm>
#include <filesystem>

#include "common/error.h"

namespace pastiche {

namespace {

const std::vector<std::string> kClassicStyle = {"relu1_1", "relu2_1", "relu3_1", "relu4_1",
                                                "relu5_1"};
const std::vector<std::string> kClassicContent = {"relu4_2"};

bool all_available(const Vgg& vgg, const std::vector<std::string>& names) {
  return std::all_of(names.begin(), names.end(),
                     [&](const std::string& n) { return vgg->has_layer(n); });
}

}  // namespace

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

LayerChoice choose_layers(const Vgg& vgg, const std::vector<std::string>& style,
                          const std::vector<std::string>& content) {
  LayerChoice choice;
  choice.style = style;
  choice.content = content;
  std::vector<std::string> relus;
  for (const auto& name : vgg->info().available)
    if (name.rfind("relu", 0) == 0) relus.push_back(name);
  if (relus.empty()) throw InputError("the VGG weights provide no usable layer");

  std::vector<std::string> fell_back;
  if (choice.style.empty()) {
    if (all_available(vgg, kClassicStyle)) {
      choice.style = kClassicStyle;
    } else {
      // The first ReLU of every available block, as in the classic set. (Adding the deepest
      // layer, e.g. relu3_4, measured worse at 512 px: content 0.58 vs 0.55 for the same style
      // distance and time; bench/RESULTS.md.)
      for (const auto& name : relus)
        if (name.size() > 2 && name.substr(name.size() - 2) == "_1") choice.style.push_back(name);
      fell_back.push_back("style " + join_names(choice.style));
    }
  }
  if (choice.content.empty()) {
    if (all_available(vgg, kClassicContent)) {
      choice.content = kClassicContent;
    } else {
      // The second ReLU of the deepest block keeps structure without pinning exact pixels.
      const auto& deepest = relus.back();
      const auto block = deepest.substr(0, deepest.find('_'));
      const auto second = block + "_2";
      choice.content = {vgg->has_layer(second) ? second : deepest};
      fell_back.push_back("content " + join_names(choice.content));
    }
  }
  vgg->check_layers(choice.style);
  vgg->check_layers(choice.content);
  if (!fell_back.empty()) {
    choice.note = "the classic layers (style " + join_names(kClassicStyle) + ", content " +
                  join_names(kClassicContent) + ") are not all in " +
                  std::filesystem::path(vgg->info().path).filename().string() + "; using " +
                  join_names(fell_back);
  }
  return choice;
}

}  // namespace pastiche
