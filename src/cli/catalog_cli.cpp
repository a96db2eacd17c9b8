#include "cli/catalog_cli.h"

namespace pastiche::cli {

std::string type_name(OptionKind kind, const std::vector<std::string>& choices) {
  switch (kind) {
    case OptionKind::integer:
      return "INT";
    case OptionKind::number:
      return "FLOAT";
    case OptionKind::choice: {
      std::string names;
      for (const auto& c : choices) names += (names.empty() ? "" : "|") + c;
      return names;
    }
    case OptionKind::names:
    case OptionKind::numbers:
      return "LIST";
    default:
      return "TEXT";
  }
}

std::string first_flag(const std::string& cli_names) {
  std::string first = cli_names.substr(0, cli_names.find(','));
  // "-s,--style": the long name reads better in a message.
  const auto long_name = cli_names.find("--");
  if (first.rfind("--", 0) != 0 && long_name != std::string::npos) {
    first = cli_names.substr(long_name, cli_names.find(',', long_name) - long_name);
  }
  return first;
}

}  // namespace pastiche::cli
