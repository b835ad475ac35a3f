# Sources of src/tokenizer/.
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/byte_level.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gguf_export.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bpe.cpp
  ${CMAKE_CURRENT_LIST_DIR}/piece_table.cpp
  ${CMAKE_CURRENT_LIST_DIR}/pretokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_gguf.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tokenizer_load.cpp
  ${CMAKE_CURRENT_LIST_DIR}/utf8.cpp
)
