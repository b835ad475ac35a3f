# Sources of src/plan/: model and device catalogs (the planner itself comes with its issue).
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/catalog.cpp
)
