# Sources of src/gguf/.
list(APPEND LONGCTX_LIB_SOURCES)
