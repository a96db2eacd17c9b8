// The relu1_1 decoder is one convolution: linear in its weights, so the pixel loss's optimum is a
// least-squares problem, solved here exactly instead of by Adam. Adam never settled it (raw
// features in the hundreds, a fixed step size: the colours drifted from checkpoint to
// checkpoint) and, worse, kept its random initial weights along the directions natural photos
// never excite; the whitening-colouring transform does excite them, and a cascade's relu1_1 level
// then painted The Starry Night purple and green. The ridge solution is the minimum-norm one:
// zero along those directions (measured in bench/RESULTS.md, "Arbitrary style").
#pragma once
#include <functional>

#include "arbitrary/decoder.h"
#include "common/runtime.h"
#include "fast/reflection_pad.h"
#include "fast/train_data.h"
#include "vgg/vgg.h"

namespace pastiche {

struct LinearFitOptions {
  int batches = 64;  // batches of crops whose normal equations are summed
  int size = 256;    // crop side
  int batch = 4;
  uint64_t seed = 0;
  int pixel_stride = 8;  // every n-th pixel of a crop enters the sums (neighbours are redundant)
  double ridge = 1e-6;   // Tikhonov term, relative to the mean diagonal of the normal matrix
};

// Sets the weights and bias of `decoder` (a relu1_1 decoder: a single ConvLayer) to the
// least-squares inverse of the encoder's relu1_1 on the data's crops. progress(done, total)
// after each batch.
void fit_linear_decoder(Decoder& decoder, Vgg& vgg, const PhotoDataset& data,
                        const LinearFitOptions& options, const ComputeFormat& format,
                        torch::Device device, const std::function<void(int, int)>& progress = {});

}  // namespace pastiche
