# Sources of src/tokenizer/.
list(APPEND LONGCTX_LIB_SOURCES)
