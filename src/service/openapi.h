// The OpenAPI document of the HTTP API: docs/openapi.json, embedded into the binary at build time
// (cmake/embed_text.cmake), so the served document is always the one in the repository.
#pragma once
#include <string>

namespace pastiche::service {

const std::string& openapi_document();

}  // namespace pastiche::service
