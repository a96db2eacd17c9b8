// The compute settings of every engine that runs the convolution networks (precision, layout),
// declared once for all of them.
#pragma once
#include "common/option_catalog.h"
#include "common/runtime.h"

namespace pastiche {

template <class T>
void append_compute_options(OptionCatalog<T>& c, unsigned uses) {
  c.push_back(choice_option("precision", &T::precision, kPrecisionNames,
                            "Convolutions in bf16 or fp32 (auto = bf16 where it runs and a "
                            "one-off measurement finds it at least 1.15x faster, see `pastiche "
                            "device`; forced on a CPU without avx512_bf16 or AMX, LibTorch "
                            "emulates it many times slower; losses and parameters stay float32)",
                            uses));
  c.push_back(choice_option("layout", &T::layout, kMemoryLayoutNames,
                            "Tensor layout (auto = channels-last when computing in bf16 on the "
                            "CPU)",
                            uses));
}

}  // namespace pastiche
