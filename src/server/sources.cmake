# Sources of src/server/: `longctx serve`'s scheduler (batched sequences), the reply assembly,
# the OpenAI / Anthropic / llama-server bodies, constrained decoding's grammars, the HTTP side
# (cpp-httplib) and the embedded web UI. A library of its own so that only the server links the
# HTTP stack.
set(LONGCTX_SERVER_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/scheduler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/reply_stream.cpp
  ${CMAKE_CURRENT_LIST_DIR}/request_run.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai.cpp
  ${CMAKE_CURRENT_LIST_DIR}/openai_response.cpp
  ${CMAKE_CURRENT_LIST_DIR}/anthropic.cpp
  ${CMAKE_CURRENT_LIST_DIR}/responses.cpp
  ${CMAKE_CURRENT_LIST_DIR}/answer_parts.cpp
  ${CMAKE_CURRENT_LIST_DIR}/constraint.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_connection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/routes_generate.cpp
  ${CMAKE_CURRENT_LIST_DIR}/memory_server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/memory_routes.cpp
  ${CMAKE_CURRENT_LIST_DIR}/webui.cpp
)
