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
