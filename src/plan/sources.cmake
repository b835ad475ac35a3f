# Sources of src/plan/: model and device catalogs, the planner and its output formats.
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/catalog.cpp
  ${CMAKE_CURRENT_LIST_DIR}/device.cpp
  ${CMAKE_CURRENT_LIST_DIR}/planner.cpp
  ${CMAKE_CURRENT_LIST_DIR}/plan_report.cpp
  ${CMAKE_CURRENT_LIST_DIR}/plan_format.cpp
)
