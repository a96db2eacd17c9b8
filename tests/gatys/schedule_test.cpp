#include "gatys/schedule.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace pastiche {
namespace {

TEST(Schedule, AutomaticLevelsGrowGeometricallyToTheTarget) {
  GatysOptions o;
  o.size = 512;
  o.min_scale_size = 192;
  const auto plan = plan_schedule(o);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan.front().size, 192);
  EXPECT_EQ(plan.back().size, 512);
  EXPECT_LT(plan[0].size, plan[1].size);
  int total = 0;
  for (const auto& level : plan) total += level.steps;
  EXPECT_EQ(total, default_steps(3));
  EXPECT_GT(plan[0].steps, plan[2].steps);  // coarse levels get more evaluations
}

TEST(Schedule, ExplicitStepsAndScalesAreHonoured) {
  GatysOptions o;
  o.size = 300;
  o.scales = 4;
  o.steps = 41;
  const auto plan = plan_schedule(o);
  ASSERT_EQ(plan.size(), 4u);
  int total = 0;
  for (const auto& level : plan) {
    EXPECT_GE(level.steps, 1);
    total += level.steps;
  }
  EXPECT_EQ(total, 41);
  o.steps = 2;  // fewer evaluations than levels: fewer levels
  EXPECT_EQ(plan_schedule(o).size(), 2u);
}

TEST(Schedule, SmallTargetIsASingleLevel) {
  GatysOptions o;
  o.size = 64;
  const auto plan = plan_schedule(o);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].size, 64);
}

TEST(LevelConverged, StopsOnlyWhenTheBestLossOfTheLastWindowBarelyMoved) {
  const int w = kConvergenceWindow;
  // Falling 10 % per window: not converged, whatever the tolerance below 10 %.
  std::vector<double> falling;
  for (int i = 0; i < 2 * w; ++i) falling.push_back(i < w ? 1.0 : 0.9);
  EXPECT_FALSE(level_converged(falling, 0.05));
  EXPECT_TRUE(level_converged(falling, 0.2));
  // Too few evaluations to compare two windows: never.
  EXPECT_FALSE(level_converged(std::vector<double>(2 * w - 1, 1.0), 0.5));
  // A line search's high trial point does not hide that the best loss stood still.
  std::vector<double> flat(2 * w, 1.0);
  flat.back() = 5.0;
  EXPECT_TRUE(level_converged(flat, 0.01));
  // Tolerance 0 never stops.
  EXPECT_FALSE(level_converged(flat, 0.0));
}

TEST(GatysOptions, ValidationNamesTheField) {
  const auto message = [](auto mutate) {
    GatysOptions o;
    mutate(o);
    try {
      o.validate();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("valid");
  };
  EXPECT_EQ(message([](GatysOptions&) {}), "valid");
  EXPECT_EQ(message([](GatysOptions& o) { o.size = 2; }).rfind("size:", 0), 0u);
  EXPECT_EQ(message([](GatysOptions& o) { o.style_weight = -1; }).rfind("style_weight:", 0), 0u);
  EXPECT_EQ(message([](GatysOptions& o) { o.blend = 1.5; }).rfind("blend:", 0), 0u);
  EXPECT_EQ(message([](GatysOptions& o) { o.tv_weight = std::nan(""); }).rfind("tv_weight:", 0),
            0u);
  EXPECT_EQ(message([](GatysOptions& o) {
              o.style_layers = {"relu1_1"};
              o.style_layer_weights = {1, 2};
            }).rfind("style_layer_weights:", 0),
            0u);
  EXPECT_THROW(parse_optimizer("sgd"), InputError);
  EXPECT_EQ(parse_init("noise"), InitKind::noise);
}

}  // namespace
}  // namespace pastiche
