# Sources of src/quant/: tensor type traits, reference dequantizers and quantizers.
list(APPEND LONGCTX_LIB_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/types.cpp
)
