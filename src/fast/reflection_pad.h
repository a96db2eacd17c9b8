// Reflection padding of every side by `p` px (p < H, W), for any dtype and memory format, with
// its own backward. LibTorch 1.13 has no bf16 reflection_pad2d, and a pad written as slice copies
// would leave autograd a zero-filled full-size gradient and an add per slice (five per pad:
// about half the transform network's training step). Channels-last tensors stay channels-last.
#pragma once
#include <torch/torch.h>

#include <cstdint>

namespace pastiche {

torch::Tensor reflection_pad(const torch::Tensor& x, int64_t p);

// The adjoint: the gradient of the [N, C, H + 2p, W + 2p] output folded back onto [N, C, H, W]
// (each mirrored border added onto the pixels it was copied from).
torch::Tensor reflection_pad_backward(const torch::Tensor& grad, int64_t p);

}  // namespace pastiche
