#include "fast/instance_norm_kernel.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <cstring>
#include <vector>

// The loops below are plain C++ written so the compiler vectorises them; the entry points are
// compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time (GCC/Clang
// function multi-versioning), since the project is built without -march.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(__APPLE__)
#define PASTICHE_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PASTICHE_MULTIVERSION
#endif

namespace pastiche {
namespace {

// bf16 is the upper half of a float32: widening is a shift, narrowing rounds to nearest even.
inline float load(const float* p, int64_t i) {
  return p[i];
}
inline float load(const uint16_t* p, int64_t i) {
  const uint32_t bits = static_cast<uint32_t>(p[i]) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
inline void store(float* p, int64_t i, float v) {
  p[i] = v;
}
inline void store(uint16_t* p, int64_t i, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits += 0x7FFFu + ((bits >> 16) & 1u);  // quiet NaNs stay NaN; the network makes no others
  p[i] = static_cast<uint16_t>(bits >> 16);
}

// Channels-last rows [pixels][C]: sums of (x - k) and (x - k)^2 per channel over `pixels` rows.
template <typename T>
inline __attribute__((always_inline)) void sums_cl(const T* x, int64_t pixels, int64_t c,
                                                   const float* k, float* s, float* q) {
  for (int64_t p = 0; p < pixels; ++p) {
    const T* row = x + p * c;
    for (int64_t j = 0; j < c; ++j) {
      const float v = load(row, j) - k[j];
      s[j] += v;
      q[j] += v * v;
    }
  }
}

// One contiguous plane of n values: sums of (x - k) and (x - k)^2, 16 float lanes at a time.
template <typename T>
inline __attribute__((always_inline)) void sums_plane(const T* x, int64_t n, float k, double* s,
                                                      double* q) {
  constexpr int64_t kLanes = 16, kBlock = 4096;  // float partial sums stay exact enough per block
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t e = std::min(n, b + kBlock);
    float ls[kLanes] = {}, lq[kLanes] = {};
    int64_t i = b;
    for (; i + kLanes <= e; i += kLanes)
      for (int64_t j = 0; j < kLanes; ++j) {
        const float v = load(x, i + j) - k;
        ls[j] += v;
        lq[j] += v * v;
      }
    for (; i < e; ++i) {
      const float v = load(x, i) - k;
      ls[0] += v;
      lq[0] += v * v;
    }
    for (int64_t j = 0; j < kLanes; ++j) {
      *s += ls[j];
      *q += lq[j];
    }
  }
}

// y[p][j] = x[p][j] * scale[j] + shift[j] over `pixels` channels-last rows of c.
template <typename T>
inline __attribute__((always_inline)) void affine_rows(const T* x, T* y, int64_t pixels, int64_t c,
                                                       const float* scale, const float* shift,
                                                       bool relu) {
  if (relu) {
    for (int64_t p = 0; p < pixels; ++p)
      for (int64_t j = 0; j < c; ++j)
        store(y, p * c + j, std::max(load(x, p * c + j) * scale[j] + shift[j], 0.0f));
  } else {
    for (int64_t p = 0; p < pixels; ++p)
      for (int64_t j = 0; j < c; ++j) store(y, p * c + j, load(x, p * c + j) * scale[j] + shift[j]);
  }
}

// The same on one NCHW plane of n values with a single scale and shift.
template <typename T>
inline __attribute__((always_inline)) void affine_plane(const T* x, T* y, int64_t n, float scale,
                                                        float shift, bool relu) {
  if (relu) {
    for (int64_t i = 0; i < n; ++i) store(y, i, std::max(load(x, i) * scale + shift, 0.0f));
  } else {
    for (int64_t i = 0; i < n; ++i) store(y, i, load(x, i) * scale + shift);
  }
}

PASTICHE_MULTIVERSION void sums_cl_f32(const float* x, int64_t pixels, int64_t c, const float* k,
                                       float* s, float* q) {
  sums_cl(x, pixels, c, k, s, q);
}
PASTICHE_MULTIVERSION void sums_cl_bf16(const uint16_t* x, int64_t pixels, int64_t c,
                                        const float* k, float* s, float* q) {
  sums_cl(x, pixels, c, k, s, q);
}
PASTICHE_MULTIVERSION void sums_plane_f32(const float* x, int64_t n, float k, double* s,
                                          double* q) {
  sums_plane(x, n, k, s, q);
}
PASTICHE_MULTIVERSION void sums_plane_bf16(const uint16_t* x, int64_t n, float k, double* s,
                                           double* q) {
  sums_plane(x, n, k, s, q);
}
PASTICHE_MULTIVERSION void affine_f32(const float* x, float* y, int64_t pixels, int64_t c,
                                      const float* scale, const float* shift, bool relu) {
  affine_rows(x, y, pixels, c, scale, shift, relu);
}
PASTICHE_MULTIVERSION void affine_bf16(const uint16_t* x, uint16_t* y, int64_t pixels, int64_t c,
                                       const float* scale, const float* shift, bool relu) {
  affine_rows(x, y, pixels, c, scale, shift, relu);
}

PASTICHE_MULTIVERSION void affine_plane_f32(const float* x, float* y, int64_t n, float scale,
                                            float shift, bool relu) {
  affine_plane(x, y, n, scale, shift, relu);
}
PASTICHE_MULTIVERSION void affine_plane_bf16(const uint16_t* x, uint16_t* y, int64_t n, float scale,
                                             float shift, bool relu) {
  affine_plane(x, y, n, scale, shift, relu);
}

inline void sums_cl_any(const void* x, bool bf16, int64_t pixels, int64_t c, const float* k,
                        float* s, float* q) {
  if (bf16)
    sums_cl_bf16(static_cast<const uint16_t*>(x), pixels, c, k, s, q);
  else
    sums_cl_f32(static_cast<const float*>(x), pixels, c, k, s, q);
}
inline void sums_plane_any(const void* x, bool bf16, int64_t n, float k, double* s, double* q) {
  if (bf16)
    sums_plane_bf16(static_cast<const uint16_t*>(x), n, k, s, q);
  else
    sums_plane_f32(static_cast<const float*>(x), n, k, s, q);
}
inline void affine_any(const void* x, void* y, bool bf16, int64_t pixels, int64_t c,
                       const float* scale, const float* shift, bool relu) {
  if (bf16)
    affine_bf16(static_cast<const uint16_t*>(x), static_cast<uint16_t*>(y), pixels, c, scale, shift,
                relu);
  else
    affine_f32(static_cast<const float*>(x), static_cast<float*>(y), pixels, c, scale, shift, relu);
}

inline void affine_plane_any(const void* x, void* y, bool bf16, int64_t n, float scale, float shift,
                             bool relu) {
  if (bf16)
    affine_plane_bf16(static_cast<const uint16_t*>(x), static_cast<uint16_t*>(y), n, scale, shift,
                      relu);
  else
    affine_plane_f32(static_cast<const float*>(x), static_cast<float*>(y), n, scale, shift, relu);
}

bool is_channels_last(const torch::Tensor& x) {
  // A [N, C, 1, 1] or C == 1 tensor is both; treat it as NCHW (the plane loop is simpler).
  return !x.is_contiguous() && x.is_contiguous(torch::MemoryFormat::ChannelsLast);
}

float value_at(const void* data, bool bf16, int64_t i) {
  return bf16 ? load(static_cast<const uint16_t*>(data), i)
              : load(static_cast<const float*>(data), i);
}

constexpr int64_t kPixelChunk = 2048;  // rows per channels-last task (and per float partial sum)

}  // namespace

bool fused_norm_supported(const torch::Tensor& x) {
  return x.defined() && x.device().is_cpu() && x.dim() == 4 && x.numel() > 0 &&
         (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kBFloat16) &&
         (x.is_contiguous() || x.is_contiguous(torch::MemoryFormat::ChannelsLast));
}

std::pair<torch::Tensor, torch::Tensor> spatial_mean_var(const torch::Tensor& x) {
  RECORD_FUNCTION("pastiche::spatial_mean_var", std::vector<c10::IValue>({x}));  // for profiles
  TORCH_CHECK(fused_norm_supported(x), "spatial_mean_var: unsupported tensor ", x.sizes(), " ",
              x.scalar_type());
  const int64_t n = x.size(0), c = x.size(1), pixels = x.size(2) * x.size(3);
  const bool bf16 = x.scalar_type() == torch::kBFloat16;
  const size_t elem = bf16 ? 2 : 4;
  const auto* base = static_cast<const char*>(x.data_ptr());
  std::vector<double> sum(static_cast<size_t>(n * c)), sq(sum.size());
  std::vector<float> shift(sum.size());

  if (is_channels_last(x)) {
    for (int64_t i = 0; i < n; ++i)  // shift: each channel's first pixel
      for (int64_t j = 0; j < c; ++j) shift[i * c + j] = value_at(base, bf16, i * pixels * c + j);
    const int64_t chunks = (pixels + kPixelChunk - 1) / kPixelChunk;
    std::vector<float> partial(static_cast<size_t>(n * chunks * 2 * c), 0.0f);
    at::parallel_for(0, n * chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const int64_t i = t / chunks, p0 = (t % chunks) * kPixelChunk;
        const int64_t rows = std::min(kPixelChunk, pixels - p0);
        float* s = partial.data() + t * 2 * c;
        sums_cl_any(base + ((i * pixels + p0) * c) * elem, bf16, rows, c, shift.data() + i * c, s,
                    s + c);
      }
    });
    for (int64_t t = 0; t < n * chunks; ++t) {
      const int64_t i = t / chunks;
      for (int64_t j = 0; j < c; ++j) {
        sum[i * c + j] += partial[t * 2 * c + j];
        sq[i * c + j] += partial[t * 2 * c + c + j];
      }
    }
  } else {
    at::parallel_for(0, n * c, 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        shift[r] = value_at(base, bf16, r * pixels);
        sums_plane_any(base + r * pixels * elem, bf16, pixels, shift[r], &sum[r], &sq[r]);
      }
    });
  }

  auto mean = torch::empty({n, c}, torch::kFloat), var = torch::empty({n, c}, torch::kFloat);
  auto* m = mean.data_ptr<float>();
  auto* v = var.data_ptr<float>();
  for (int64_t r = 0; r < n * c; ++r) {
    const double ds = sum[r] / pixels;
    m[r] = static_cast<float>(shift[r] + ds);
    v[r] = static_cast<float>(std::max(0.0, sq[r] / pixels - ds * ds));
  }
  return {mean, var};
}

torch::Tensor scale_shift(const torch::Tensor& x, const torch::Tensor& scale,
                          const torch::Tensor& shift, bool relu) {
  RECORD_FUNCTION("pastiche::scale_shift", std::vector<c10::IValue>({x}));
  TORCH_CHECK(fused_norm_supported(x), "scale_shift: unsupported tensor ", x.sizes(), " ",
              x.scalar_type());
  const int64_t n = x.size(0), c = x.size(1), pixels = x.size(2) * x.size(3);
  auto as_rows = [&](const torch::Tensor& t, const char* what) {
    TORCH_CHECK(t.dim() == 2 && t.size(1) == c && (t.size(0) == 1 || t.size(0) == n),
                "scale_shift: ", what, " must be [N or 1, ", c, "], got ", t.sizes());
    return t.to(torch::kFloat).expand({n, c}).contiguous();
  };
  const auto sc = as_rows(scale, "scale"), sh = as_rows(shift, "shift");
  const bool bf16 = x.scalar_type() == torch::kBFloat16;
  const size_t elem = bf16 ? 2 : 4;
  const bool cl = is_channels_last(x);
  auto y = torch::empty_like(
      x, cl ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous);
  const auto* in = static_cast<const char*>(x.data_ptr());
  auto* out = static_cast<char*>(y.data_ptr());
  const float* s = sc.data_ptr<float>();
  const float* b = sh.data_ptr<float>();

  if (cl) {
    const int64_t chunks = (pixels + kPixelChunk - 1) / kPixelChunk;
    at::parallel_for(0, n * chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const int64_t i = t / chunks, p0 = (t % chunks) * kPixelChunk;
        const int64_t rows = std::min(kPixelChunk, pixels - p0);
        const size_t offset = static_cast<size_t>((i * pixels + p0) * c) * elem;
        affine_any(in + offset, out + offset, bf16, rows, c, s + i * c, b + i * c, relu);
      }
    });
  } else {
    at::parallel_for(0, n * c, 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const size_t offset = static_cast<size_t>(r * pixels) * elem;
        affine_plane_any(in + offset, out + offset, bf16, pixels, s[r], b[r], relu);
      }
    });
  }
  return y;
}

}  // namespace pastiche

#undef PASTICHE_MULTIVERSION
