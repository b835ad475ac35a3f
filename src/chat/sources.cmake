# Sources of src/chat/.
list(APPEND LONGCTX_LIB_SOURCES)
