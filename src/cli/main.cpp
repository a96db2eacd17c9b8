// pastiche: command-line front end. Each subcommand lives in its own cmd_*.cpp and registers
// itself (see command.h); this file only parses and maps failures to exit codes.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <vector>

#include "cli/command.h"
#include "common/error.h"

namespace pastiche::cli {

namespace {
std::vector<std::pair<int, CommandSetup>>& registry() {
  static std::vector<std::pair<int, CommandSetup>> commands;
  return commands;
}
}  // namespace

bool register_command(int order, CommandSetup setup) {
  registry().emplace_back(order, std::move(setup));
  return true;
}

void setup_all_commands(CLI::App& app) {
  auto& commands = registry();
  std::stable_sort(commands.begin(), commands.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, setup] : commands) setup(app);
}

}  // namespace pastiche::cli

int main(int argc, char** argv) {
  CLI::App app{
      "Pastiche: neural style transfer (Gatys optimisation and fast feed-forward networks)",
      "pastiche"};
  app.set_version_flag("--version", std::string("pastiche ") + PASTICHE_VERSION);
  app.require_subcommand(1);
  app.get_formatter()->column_width(34);
  spdlog::set_pattern("%^%l%$: %v");
  pastiche::cli::setup_all_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const pastiche::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const pastiche::NotFoundError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const pastiche::Cancelled&) {
    std::cerr << "cancelled\n";
    return 130;
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
