#include "arbitrary/linear_decoder_fit.h"

#include <stdexcept>

namespace pastiche {

void fit_linear_decoder(Decoder& decoder, Vgg& vgg, const PhotoDataset& data,
                        const LinearFitOptions& o, const ComputeFormat& format,
                        torch::Device device, const std::function<void(int, int)>& progress) {
  const auto& layer = decoder->options().layer;
  if (layer != "relu1_1" || !decoder->conv_out || decoder->conv1a)
    throw std::logic_error("fit_linear_decoder: only the relu1_1 decoder is linear");
  torch::NoGradGuard no_grad;
  auto& conv = decoder->conv_out->conv;
  const int64_t channels = conv->weight.size(1), k = conv->weight.size(2);
  const int64_t inputs = channels * k * k + 1;  // the patch and a constant for the bias
  auto normal = torch::zeros({inputs, inputs}, torch::kDouble);
  auto moment = torch::zeros({inputs, 3}, torch::kDouble);
  const double scale = decoder->options().input_scale;
  for (int b = 0; b < o.batches; ++b) {
    const auto x = make_batch(data, o.size, o.batch, o.seed, b).to(device);
    const auto f = vgg->forward(x.contiguous(format.memory_format()), {layer}, format.dtype)
                       .at(layer)
                       .to(torch::kFloat)
                       .contiguous();
    for (int64_t i = 0; i < x.size(0); ++i) {
      // Rows: the decoder's receptive field at each sampled pixel, as its convolution reads it.
      const auto padded = reflection_pad(f.slice(0, i, i + 1) * scale, k / 2);
      auto rows = torch::nn::functional::unfold(padded, torch::nn::functional::UnfoldFuncOptions(k))
                      .squeeze(0)
                      .t()
                      .slice(0, 0, c10::nullopt, o.pixel_stride);
      rows = torch::cat({rows, torch::ones({rows.size(0), 1}, rows.options())}, 1);
      const auto target =
          x[i].reshape({3, -1}).t().slice(0, 0, c10::nullopt, o.pixel_stride).to(torch::kFloat);
      normal += rows.t().matmul(rows).to(torch::kDouble).cpu();
      moment += rows.t().matmul(target).to(torch::kDouble).cpu();
    }
    if (progress) progress(b + 1, o.batches);
  }
  const double ridge = o.ridge * normal.diagonal().mean().item<double>();
  const auto solution = torch::linalg::solve(normal + ridge * torch::eye(inputs, torch::kDouble),
                                             moment, true);  // [inputs, 3]
  const auto weights = solution.slice(0, 0, inputs - 1).t().reshape({3, channels, k, k});
  conv->weight.copy_(weights.to(conv->weight.dtype()));
  conv->bias.copy_(solution[inputs - 1].to(conv->bias.dtype()));
}

}  // namespace pastiche
