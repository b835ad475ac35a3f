# Sources of src/kernels/: ref/ holds the scalar reference ops (the oracle for SIMD / CUDA kernels).
set(LONGCTX_KERNELS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/ref/norm.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ref/matmul.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ref/rope.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ref/activations.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ref/attention.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ref/moe.cpp
)
# The references define the numerics later kernels are compared with; keep them free of
# compiler-chosen FMA contraction so every build computes the same bits.
set_source_files_properties(${LONGCTX_KERNELS_SOURCES} PROPERTIES COMPILE_OPTIONS -ffp-contract=off)
list(APPEND LONGCTX_LIB_SOURCES ${LONGCTX_KERNELS_SOURCES}
  ${CMAKE_CURRENT_LIST_DIR}/ref_backend.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu_backend.cpp)
