#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Tests choose precision by the CPU flag rule (still checking that bf16 runs), not by timings
  // taken while other tests load the cores; compute_probe_test.cpp runs the real probe itself.
  setenv("PASTICHE_PROBE", "off", /*overwrite=*/0);
  torch::set_num_threads(2);
  return RUN_ALL_TESTS();
}
