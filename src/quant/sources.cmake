# Sources of src/quant/: tensor type traits, reference dequantizers and quantizers.
set(LONGCTX_QUANT_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/types.cpp
  ${CMAKE_CURRENT_LIST_DIR}/quantize.cpp
  ${CMAKE_CURRENT_LIST_DIR}/dequantize_ref.cpp
  ${CMAKE_CURRENT_LIST_DIR}/quantize_ref.cpp
  ${CMAKE_CURRENT_LIST_DIR}/quantize_kquants.cpp
  ${CMAKE_CURRENT_LIST_DIR}/random_blocks.cpp
)
# The reference kernels must be bit-exact with ggml / numpy: never fuse a*b+c into an FMA (GCC
# and Clang contract by default on targets with FMA, e.g. aarch64 or -march=native builds).
set_source_files_properties(${LONGCTX_QUANT_SOURCES} PROPERTIES COMPILE_OPTIONS -ffp-contract=off)
list(APPEND LONGCTX_LIB_SOURCES ${LONGCTX_QUANT_SOURCES})
