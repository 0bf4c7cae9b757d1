# Writes OUT, a C++ file holding every *.toml of DATA_DIR as a string (cmake -P).
file(GLOB files "${DATA_DIR}/*.toml")
list(SORT files)
set(body "")
foreach(f ${files})
  get_filename_component(name "${f}" NAME)
  file(READ "${f}" hex HEX)
  string(LENGTH "${hex}" hex_len)
  # Bytes as a char array: no limit on literal length, no escaping trouble.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(REGEX REPLACE "(([^,]*,){16})" "\\1\n    " bytes "${bytes}")
  string(MAKE_C_IDENTIFIER "${name}" ident)
  string(APPEND body "const char k_${ident}[] = {\n    ${bytes}};\n")
  string(APPEND entries "      {\"${name}\", std::string(k_${ident}, sizeof(k_${ident}))},\n")
endforeach()
set(content "// Generated from data/tariffs by src/rating/embed_tariffs.cmake. Do not edit.
#include \"rating/internal/embedded.h\"

namespace gridmis::rating::internal {
namespace {
${body}}  // namespace

const std::map<std::string, std::string>& EmbeddedTariffFiles() {
  static const auto* files = new std::map<std::string, std::string>{
${entries}  };
  return *files;
}

}  // namespace gridmis::rating::internal
")
# Only rewrite when changed, so that an unchanged catalogue does not trigger a rebuild.
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
  if(old STREQUAL content)
    return()
  endif()
endif()
file(WRITE "${OUT}" "${content}")
