// Runs the real `pastiche` executable (PASTICHE_CLI_PATH) and captures its exit code and output.
#pragma once
#include <string>

namespace pastiche::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// `args` is appended to the executable path and run through /bin/sh; quote as needed.
CommandResult run_cli(const std::string& args);

std::string shell_quote(const std::string& s);

}  // namespace pastiche::testing
