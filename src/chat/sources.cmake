# Sources of src/chat/: the Jinja2-subset interpreter, chat templates and model-output parsing.
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/value.cpp
  ${CMAKE_CURRENT_LIST_DIR}/value_json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/jinja_lexer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/jinja_parser.cpp
  ${CMAKE_CURRENT_LIST_DIR}/jinja_parse_expr.cpp
  ${CMAKE_CURRENT_LIST_DIR}/jinja_eval.cpp
  ${CMAKE_CURRENT_LIST_DIR}/jinja_methods.cpp
  ${CMAKE_CURRENT_LIST_DIR}/jinja_filters.cpp
  ${CMAKE_CURRENT_LIST_DIR}/chat_template.cpp
  ${CMAKE_CURRENT_LIST_DIR}/builtin_templates.cpp
  ${CMAKE_CURRENT_LIST_DIR}/output_parser.cpp
  ${CMAKE_CURRENT_LIST_DIR}/think_stream.cpp
)
