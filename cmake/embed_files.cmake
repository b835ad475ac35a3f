# Embeds files into the binary as byte arrays (CMake only, no Python): a generated .cpp that
# defines longctx::server::webui_files() (see src/server/webui.h) over {name, bytes, size} entries.
#
# Two uses of this one file:
#   include(cmake/embed_files.cmake)           defines longctx_embed_files() and longctx_embed_webui()
#   cmake -DEMBED_MANIFEST=F -DEMBED_OUTPUT=O -P cmake/embed_files.cmake
#                                              (run at build time by the custom command below)
#
# longctx_embed_webui(TARGET) adds the web UI of `longctx serve` to TARGET: every file of
# src/server/webui/ plus, when their Debian packages are installed at configure time, marked.js
# (libjs-marked) as ui/marked.min.js and highlight.js (libjs-highlight.js) as ui/highlight.min.js.
# Without them the UI renders Markdown with its own small safe renderer. The cache variables
# LONGCTX_WEBUI_MARKED / LONGCTX_WEBUI_HIGHLIGHT name other copies ("" or OFF leaves one out).

if(CMAKE_SCRIPT_MODE_FILE)
  # ---- script mode: write EMBED_OUTPUT from the "name=path" lines of EMBED_MANIFEST ----
  if(NOT EMBED_MANIFEST OR NOT EMBED_OUTPUT)
    message(FATAL_ERROR "embed_files.cmake: set EMBED_MANIFEST and EMBED_OUTPUT")
  endif()
  file(STRINGS "${EMBED_MANIFEST}" entries)
  # 16 bytes per source line: "0xNN," per byte, then a newline after every 16 of them.
  string(REPEAT "0x[0-9a-f][0-9a-f]," 16 row_re)
  set(body "")
  set(table "")
  set(index 0)
  foreach(entry IN LISTS entries)
    string(FIND "${entry}" "=" eq)
    if(eq LESS 1)
      message(FATAL_ERROR "embed_files.cmake: bad manifest line '${entry}'")
    endif()
    string(SUBSTRING "${entry}" 0 ${eq} name)
    math(EXPR from "${eq} + 1")
    string(SUBSTRING "${entry}" ${from} -1 path)
    file(READ "${path}" hex HEX)
    string(LENGTH "${hex}" nhex)
    math(EXPR nbytes "${nhex} / 2")
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
    string(REGEX REPLACE "(${row_re})" "\\1\n" hex "${hex}")
    # A trailing 0 keeps an empty file a valid array; the size excludes it.
    string(APPEND body "// ${name} (${nbytes} bytes) from ${path}\n"
                       "const unsigned char k${index}[] = {\n${hex}0x00};\n\n")
    string(APPEND table "    {\"${name}\", k${index}, ${nbytes}},\n")
    math(EXPR index "${index} + 1")
  endforeach()
  string(CONCAT text "// Generated at build time by cmake/embed_files.cmake from ${EMBED_MANIFEST}; do not edit.\n"
           "#include <cstddef>\n#include <span>\n\n#include \"server/webui.h\"\n\n"
           "namespace longctx::server {\nnamespace {\n\n${body}"
           "const WebuiFile kFiles[] = {\n${table}    {nullptr, nullptr, 0},\n};\n\n"
           "}  // namespace\n\n"
           "std::span<const WebuiFile> webui_files() {\n"
           "  return {kFiles, sizeof kFiles / sizeof kFiles[0] - 1};\n}\n\n"
           "}  // namespace longctx::server\n")
  # Rewrite only on change, so an unchanged UI does not recompile.
  if(EXISTS "${EMBED_OUTPUT}")
    file(READ "${EMBED_OUTPUT}" old)
    if(old STREQUAL text)
      return()
    endif()
  endif()
  file(WRITE "${EMBED_OUTPUT}" "${text}")
  return()
endif()

set(_LONGCTX_EMBED_SCRIPT "${CMAKE_CURRENT_LIST_FILE}")

# longctx_embed_files(TARGET OUTPUT <cpp> FILES <name> <path> [<name> <path>...])
# Generates <cpp> at build time from the files (regenerated when one of them changes) and adds it
# to TARGET's sources.
function(longctx_embed_files target)
  cmake_parse_arguments(E "" "OUTPUT" "FILES" ${ARGN})
  list(LENGTH E_FILES n)
  math(EXPR odd "${n} % 2")
  if(n EQUAL 0 OR odd)
    message(FATAL_ERROR "longctx_embed_files: FILES takes <name> <path> pairs")
  endif()
  set(manifest "")
  set(deps "")
  math(EXPR last "${n} - 1")
  foreach(i RANGE 0 ${last} 2)
    math(EXPR j "${i} + 1")
    list(GET E_FILES ${i} name)
    list(GET E_FILES ${j} path)
    get_filename_component(path "${path}" REALPATH)
    string(APPEND manifest "${name}=${path}\n")
    list(APPEND deps "${path}")
  endforeach()
  set(manifest_file "${E_OUTPUT}.manifest")
  file(CONFIGURE OUTPUT "${manifest_file}" CONTENT "${manifest}" @ONLY)
  add_custom_command(
    OUTPUT "${E_OUTPUT}"
    COMMAND "${CMAKE_COMMAND}" "-DEMBED_MANIFEST=${manifest_file}" "-DEMBED_OUTPUT=${E_OUTPUT}"
            -P "${_LONGCTX_EMBED_SCRIPT}"
    DEPENDS ${deps} "${manifest_file}" "${_LONGCTX_EMBED_SCRIPT}"
    COMMENT "Embedding ${target}'s files into ${E_OUTPUT}"
    VERBATIM)
  target_sources(${target} PRIVATE "${E_OUTPUT}")
endfunction()

# longctx_embed_webui(TARGET): the web UI files (see the top of this file).
function(longctx_embed_webui target)
  set(dir "${PROJECT_SOURCE_DIR}/src/server/webui")
  file(GLOB ui_files CONFIGURE_DEPENDS "${dir}/*.html" "${dir}/*.js" "${dir}/*.css" "${dir}/*.svg")
  list(SORT ui_files)
  set(files "")
  foreach(f IN LISTS ui_files)
    get_filename_component(name "${f}" NAME)
    list(APPEND files "${name}" "${f}")
  endforeach()
  # Debian's packaged libraries, read from where the packages install them.
  if(NOT DEFINED LONGCTX_WEBUI_MARKED)
    find_file(_marked NAMES marked.min.js marked.umd.min.js marked.js
              PATHS /usr/share/javascript/marked NO_DEFAULT_PATH NO_CACHE)
    set(LONGCTX_WEBUI_MARKED "${_marked}" CACHE FILEPATH "marked.js to embed in the web UI (empty: none)")
  endif()
  if(NOT DEFINED LONGCTX_WEBUI_HIGHLIGHT)
    find_file(_hljs NAMES highlight.min.js highlight.js
              PATHS /usr/share/javascript/highlight.js NO_DEFAULT_PATH NO_CACHE)
    set(LONGCTX_WEBUI_HIGHLIGHT "${_hljs}" CACHE FILEPATH "highlight.js to embed in the web UI (empty: none)")
  endif()
  set(extras "")
  if(LONGCTX_WEBUI_MARKED AND EXISTS "${LONGCTX_WEBUI_MARKED}")
    list(APPEND files "marked.min.js" "${LONGCTX_WEBUI_MARKED}")
    list(APPEND extras "marked (${LONGCTX_WEBUI_MARKED})")
  endif()
  if(LONGCTX_WEBUI_HIGHLIGHT AND EXISTS "${LONGCTX_WEBUI_HIGHLIGHT}")
    list(APPEND files "highlight.min.js" "${LONGCTX_WEBUI_HIGHLIGHT}")
    list(APPEND extras "highlight.js (${LONGCTX_WEBUI_HIGHLIGHT})")
  endif()
  if(extras)
    string(JOIN ", " extras ${extras})
    message(STATUS "longctx web UI: embedding ${extras}")
  else()
    message(STATUS "longctx web UI: libjs-marked / libjs-highlight.js not found; the UI's own Markdown renderer is used")
  endif()
  longctx_embed_files(${target} OUTPUT "${CMAKE_CURRENT_BINARY_DIR}/webui_files.cpp" FILES ${files})
endfunction()
