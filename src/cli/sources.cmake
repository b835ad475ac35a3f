# Sources of the longctx binary: one file per subcommand.
set(LONGCTX_CLI_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/main.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_info.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_synth.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_tokenize.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_template.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_run.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_chat.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_bench.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_eval.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_serve.cpp
  ${CMAKE_CURRENT_LIST_DIR}/chat_input.cpp
  ${CMAKE_CURRENT_LIST_DIR}/line_editor.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cmd_plan.cpp
  ${CMAKE_CURRENT_LIST_DIR}/engine_args.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sampling_args.cpp
)
