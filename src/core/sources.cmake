# Sources of src/core/: status, file I/O and memory maps, .npy arrays, bandwidth probe, large buffers, UTC time.
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/file_io.cpp
  ${CMAKE_CURRENT_LIST_DIR}/thread_pool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/system_memory.cpp
  ${CMAKE_CURRENT_LIST_DIR}/npy.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bandwidth.cpp
  ${CMAKE_CURRENT_LIST_DIR}/large_buffer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/utc_time.cpp
)
