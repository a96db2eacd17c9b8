// Seconds per loss evaluation (VGG forward + Gram/content losses + backward) — the unit the peer
// reports as s_per_closure. Uses $PASTICHE_VGG (or the default weights search); the image is the
// peer's synthetic pair, so only timing matters here.
//   build/bench/gatys_bench --benchmark_filter=Shallow/256
#include <benchmark/benchmark.h>

#include "common/runtime.h"
#include "perceptual/losses.h"
#include "vgg/vgg.h"

namespace {

using namespace pastiche;

struct Preset {
  std::vector<std::string> style, content;
};

// The peer's "shallow" preset: losses on conv outputs as in the PyTorch tutorial.
const Preset kShallow{{"conv1_1", "conv2_1", "conv3_1"}, {"conv3_2"}};
// Pastiche's default layers with the partial weights.
const Preset kDefault{{"relu1_1", "relu2_1", "relu3_1", "relu3_4"}, {"relu3_2"}};

Vgg& shared_vgg() {
  static Vgg vgg = [] {
    const auto path = default_vgg_weights_path();
    if (path.empty()) throw std::runtime_error("set PASTICHE_VGG to VGG weights");
    Vgg v(path);
    v->eval();
    return v;
  }();
  return vgg;
}

void run_evaluation(benchmark::State& state, const Preset& preset) {
  configure_threads(0);
  const int size = static_cast<int>(state.range(0));
  const bool channels_last = state.range(1) != 0;
  const auto compute = state.range(2) != 0 ? torch::kBFloat16 : torch::kFloat;
  auto& vgg = shared_vgg();
  auto all = preset.style;
  all.insert(all.end(), preset.content.begin(), preset.content.end());
  torch::manual_seed(0);
  const auto content = torch::rand({1, 3, size, size});
  const auto style = torch::rand({1, 3, size, size});
  const auto layout = [&](const torch::Tensor& t) {
    return channels_last ? t.contiguous(torch::MemoryFormat::ChannelsLast) : t;
  };
  std::map<std::string, torch::Tensor> content_targets, grams;
  {
    torch::NoGradGuard no_grad;
    content_targets = vgg->forward(layout(content), preset.content, compute);
    for (auto& [name, f] : vgg->forward(layout(style), preset.style, compute))
      grams[name] = gram_matrix(f);
  }
  auto image = content.clone().requires_grad_(true);
  for (auto _ : state) {
    if (image.grad().defined()) image.mutable_grad().zero_();
    auto features = vgg->forward(layout(image), all, compute);
    auto loss = content_loss(features, content_targets, preset.content) +
                style_loss(features, grams, preset.style, {}) * 1000.0;
    loss.backward();
    benchmark::DoNotOptimize(image.grad().data_ptr());
  }
  state.counters["threads"] = torch::get_num_threads();
  state.counters["channels_last"] = channels_last;
  state.counters["bf16"] = compute == torch::kBFloat16;
}

void BM_Shallow(benchmark::State& state) {
  run_evaluation(state, kShallow);
}
void BM_Default(benchmark::State& state) {
  run_evaluation(state, kDefault);
}

BENCHMARK(BM_Shallow)
    ->ArgsProduct({{256, 512}, {0, 1}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3);
BENCHMARK(BM_Default)
    ->ArgsProduct({{256, 512}, {1}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(3);

}  // namespace

BENCHMARK_MAIN();
