// Precompiled header shared by every target: the heavy, stable third-party headers.
#pragma once
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>
