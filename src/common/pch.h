// Precompiled header shared by every target: the heavy, stable third-party headers.
#pragma once
#include <torch/torch.h>
#include <opencv2/core.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

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
