// Fused CPU kernels for instance normalisation at inference time.
//
// Written with ATen ops, a normalisation + ReLU is ten passes over the feature map (centre, square,
// two means, scale-and-shift, ReLU); at 1024² the paper network's 32-channel maps are 64 MB each
// and these passes took half of the forward time. Here it is two: one read for the statistics,
// one read + write for y = max(x * scale + shift, 0). Arithmetic is float32 whatever the storage
// (so folding the mean into the shift does not cancel, as it would in bf16).
//
// Inputs: CPU float32 or bf16 tensors [N, C, H, W], contiguous NCHW or channels-last. Autograd
// does not see through these kernels: the training path keeps the ATen formulation.
#pragma once
#include <torch/torch.h>

#include <utility>

namespace pastiche {

// Whether `x` has a dtype and memory layout these kernels handle.
bool fused_norm_supported(const torch::Tensor& x);

// Mean and biased variance over H, W per (n, c), in one read of x: two float32 [N, C] tensors.
// Accumulated around a per-channel sample (shifted data) so large means do not cancel.
std::pair<torch::Tensor, torch::Tensor> spatial_mean_var(const torch::Tensor& x);

// y = x * scale + shift per (n, c), then max(y, 0) if `relu`; scale and shift are float32
// [N, C] or [1, C]. Returns a new tensor of x's dtype and memory format.
torch::Tensor scale_shift(const torch::Tensor& x, const torch::Tensor& scale,
                          const torch::Tensor& shift, bool relu);

}  // namespace pastiche
