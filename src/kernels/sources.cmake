# Sources of src/kernels/: ref/ holds the scalar reference ops (the oracle for SIMD / CUDA kernels),
# cpu/ the micro-kernels of the cpu backend, one translation unit per instruction-set path.
set(LONGCTX_KERNELS_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/ref/norm.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ref/matmul.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ref/rope.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ref/activations.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ref/attention.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ref/moe.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ref/hadamard.cpp
)
# The references define the numerics later kernels are compared with; keep them free of
# compiler-chosen FMA contraction so every build computes the same bits.
set_source_files_properties(${LONGCTX_KERNELS_SOURCES} PROPERTIES COMPILE_OPTIONS -ffp-contract=off)
# Under the sanitizers (built at -O1) the oracle's per-element loads dominate the kernel tests'
# time (~80% of the attention tests'); -O2 keeps its IEEE results (no contraction, no fast-math)
# and its instrumentation, and cuts those tests' time by ~25% (21.2 -> 15.9 s for one).
if(LONGCTX_SANITIZE)
  set_source_files_properties(${LONGCTX_KERNELS_SOURCES} PROPERTIES
    COMPILE_OPTIONS "-ffp-contract=off;-O2")
endif()

# Portable kernels (any target): the scalar path.
set(LONGCTX_CPU_KERNEL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/cpu/isa.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/legacy_scalar.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/kquant_scalar.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/x16_repack.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/q6k_scalar.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/elementwise_scalar.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/attention.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/attention_scalar.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu/attention_quant_scalar.cpp
)
# x86-64: the AVX2 and AVX-512 paths, each file compiled for its own instruction set only (the
# default build stays baseline x86-64; the path is chosen at run time from CPUID).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(LONGCTX_AVX2_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/cpu/legacy_avx2.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/kquant_avx2.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/q6k_avx2.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/elementwise_avx2.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/attention_avx2.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/attention_rows_avx2.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/attention_quant_avx2.cpp
  )
  set(LONGCTX_AVX512_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/cpu/legacy_avx512.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/kquant_avx512.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/kquant_x16_avx512.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/legacy_x16_avx512.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/q6k_avx512.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/elementwise_avx512.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/attention_avx512.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/attention_rows_avx512.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/attention_decode_avx512.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/attention_quant_avx512.cpp
  )
  set_source_files_properties(${LONGCTX_AVX2_SOURCES} PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
  # GCC 12's AVX-512 intrinsic headers trip -Wmaybe-uninitialized on their own undefined
  # pass-through vectors (a known false positive), so it is silenced for these files only.
  set_source_files_properties(${LONGCTX_AVX512_SOURCES} PROPERTIES
    COMPILE_OPTIONS "-mavx2;-mfma;-mf16c;-mavx512f;-mavx512bw;-mavx512vl;-mavx512dq;-mavx512vnni;-mavx512bf16;-Wno-maybe-uninitialized")
  list(APPEND LONGCTX_CPU_KERNEL_SOURCES ${LONGCTX_AVX2_SOURCES} ${LONGCTX_AVX512_SOURCES})
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/cpu/isa.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cpu/attention.cpp PROPERTIES COMPILE_DEFINITIONS LONGCTX_X86_KERNELS)
endif()

list(APPEND LONGCTX_LIB_SOURCES ${LONGCTX_KERNELS_SOURCES} ${LONGCTX_CPU_KERNEL_SOURCES}
  ${CMAKE_CURRENT_LIST_DIR}/ref_backend.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cpu_backend.cpp)

include(${CMAKE_CURRENT_LIST_DIR}/cuda/sources.cmake)
