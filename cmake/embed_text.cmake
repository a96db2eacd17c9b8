# Writes a C++ source defining `const std::string& FUNCTION()` that returns the text of IN,
# for documents the binary serves (docs/openapi.json). Run by the build whenever IN changes:
#   cmake -DIN=file -DOUT=file.cpp -DFUNCTION=name -DHEADER=header.h -DNAMESPACE=ns -P embed_text.cmake
file(READ "${IN}" content)
string(FIND "${content}" ")EMBEDDED\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )EMBEDDED\"")
endif()
file(WRITE "${OUT}.tmp"
  "// Generated at build time from ${IN} by cmake/embed_text.cmake: do not edit.\n"
  "#include \"${HEADER}\"\n\n"
  "namespace ${NAMESPACE} {\n\n"
  "const std::string& ${FUNCTION}() {\n"
  "  static const std::string text = R\"EMBEDDED(${content})EMBEDDED\";\n"
  "  return text;\n"
  "}\n\n"
  "}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
