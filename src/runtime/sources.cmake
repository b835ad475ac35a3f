# Sources of src/runtime/: the token sampler.
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/sampler.cpp
)
