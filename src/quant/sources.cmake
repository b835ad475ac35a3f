# Sources of src/quant/.
list(APPEND LONGCTX_LIB_SOURCES)
