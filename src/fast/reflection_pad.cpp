#include "fast/reflection_pad.h"

namespace pastiche {
namespace {

torch::Tensor pad_forward(const torch::Tensor& x, int64_t p) {
  // One allocation: the interior is copied once, then the four borders are mirrored in place
  // (rows from x, columns from the row-padded result so the corners come out right).
  const int64_t h = x.size(2), w = x.size(3);
  auto out = torch::empty({x.size(0), x.size(1), h + 2 * p, w + 2 * p},
                          x.options().memory_format(x.suggest_memory_format()));
  auto rows = out.slice(3, p, p + w);
  rows.slice(2, p, p + h).copy_(x);
  rows.slice(2, 0, p).copy_(x.slice(2, 1, p + 1).flip({2}));
  rows.slice(2, p + h, h + 2 * p).copy_(x.slice(2, h - p - 1, h - 1).flip({2}));
  out.slice(3, 0, p).copy_(out.slice(3, p + 1, 2 * p + 1).flip({3}));
  out.slice(3, p + w, w + 2 * p).copy_(out.slice(3, w - 1, w + p - 1).flip({3}));
  return out;
}

// Folds the left and right border columns of `band` (rows of the padded gradient, all columns)
// onto its interior columns, returning [N, C, rows, W].
torch::Tensor fold_columns(const torch::Tensor& band, int64_t p, int64_t w) {
  auto g = band.slice(3, p, p + w).clone(band.suggest_memory_format());
  g.slice(3, 1, p + 1).add_(band.slice(3, 0, p).flip({3}));
  g.slice(3, w - p - 1, w - 1).add_(band.slice(3, p + w, w + 2 * p).flip({3}));
  return g;
}

struct ReflectionPadFunction : torch::autograd::Function<ReflectionPadFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               int64_t p) {
    ctx->saved_data["p"] = p;
    return pad_forward(x, p);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    return {reflection_pad_backward(grads[0], ctx->saved_data["p"].toInt()), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor reflection_pad(const torch::Tensor& x, int64_t p) {
  if (p == 0) return x;
  if (torch::GradMode::is_enabled() && x.requires_grad()) return ReflectionPadFunction::apply(x, p);
  return pad_forward(x, p);
}

torch::Tensor reflection_pad_backward(const torch::Tensor& grad, int64_t p) {
  if (p == 0) return grad;
  const int64_t h = grad.size(2) - 2 * p, w = grad.size(3) - 2 * p;
  // Reverse order of the forward: columns first (over the full height, so the corners reach the
  // border rows), then the border rows onto the interior rows.
  auto g = fold_columns(grad.slice(2, p, p + h), p, w);
  g.slice(2, 1, p + 1).add_(fold_columns(grad.slice(2, 0, p), p, w).flip({2}));
  g.slice(2, h - p - 1, h - 1).add_(fold_columns(grad.slice(2, p + h, h + 2 * p), p, w).flip({2}));
  return g;
}

}  // namespace pastiche
