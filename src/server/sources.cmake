# Sources of src/server/: `longctx serve`'s scheduler (batched sequences), OpenAI bodies and the
# HTTP side (cpp-httplib). A library of its own so that only the server links the HTTP stack.
set(LONGCTX_SERVER_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/scheduler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_server.cpp
)
