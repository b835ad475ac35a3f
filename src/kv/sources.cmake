# Sources of src/kv/: the KV cache and its sequence operations.
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/kv_cache.cpp
  ${CMAKE_CURRENT_LIST_DIR}/kv_ops.cpp
)
