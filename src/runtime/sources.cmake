# Sources of src/runtime/: engine, sessions (chunked prefill, decode), sampler, generation loop,
# benchmark measurements, constrained decoding's grammars (JSON Schema and GBNF).
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/sampler.cpp
  ${CMAKE_CURRENT_LIST_DIR}/engine.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session.cpp
  ${CMAKE_CURRENT_LIST_DIR}/batch.cpp
  ${CMAKE_CURRENT_LIST_DIR}/generate.cpp
  ${CMAKE_CURRENT_LIST_DIR}/generation.cpp
  ${CMAKE_CURRENT_LIST_DIR}/chat_prompt.cpp
  ${CMAKE_CURRENT_LIST_DIR}/bench.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/eval.cpp
  ${CMAKE_CURRENT_LIST_DIR}/speed_probe.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grammar.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grammar_build.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grammar_schema.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grammar_matcher.cpp
  ${CMAKE_CURRENT_LIST_DIR}/grammar_text.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gbnf.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gbnf_matcher.cpp
)
