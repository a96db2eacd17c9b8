// Subcommands register themselves from their own translation unit, so adding a command never
// touches main.cpp:  static const bool registered = register_command(20, [](CLI::App& app) {...});
// A command's callback throws on failure; main() maps exceptions to one-line messages and exit
// codes (InputError/NotFoundError -> 2, anything else -> 1).
#pragma once
#include <CLI/CLI.hpp>

#include <functional>

namespace pastiche::cli {

using CommandSetup = std::function<void(CLI::App& app)>;

// `order` sorts commands in --help (stylize 10, train 20, stylize-video 30, models 40,
// weights 50, serve 60).
bool register_command(int order, CommandSetup setup);

void setup_all_commands(CLI::App& app);

}  // namespace pastiche::cli
