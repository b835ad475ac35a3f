# Sources of src/kernels/cuda/: the CUDA kernels (a separate static library built by nvcc when the
# toolkit is found, see the top-level CMakeLists.txt), or the stub that says CUDA is absent.
if(LONGCTX_HAVE_CUDA)
  add_library(longctx_cuda STATIC
    ${CMAKE_CURRENT_LIST_DIR}/device.cu
    ${CMAKE_CURRENT_LIST_DIR}/matvec.cu
    ${CMAKE_CURRENT_LIST_DIR}/elementwise.cu
    ${CMAKE_CURRENT_LIST_DIR}/rows.cu
    ${CMAKE_CURRENT_LIST_DIR}/attention.cu
    ${CMAKE_CURRENT_LIST_DIR}/moe.cu)
  target_include_directories(longctx_cuda PRIVATE ${PROJECT_SOURCE_DIR}/src)
  # CMake 3.25 has no nvcc flag for C++20: the target asks for 17 and the headers it includes from
# the rest of the project must compile as C++17.
set_target_properties(longctx_cuda PROPERTIES CUDA_ARCHITECTURES "${LONGCTX_CUDA_ARCHS}"
  CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON)
  # The static runtime: the binary needs only the driver (libcuda) at run time, loaded when a
  # CUDA call is made, so it starts and runs on the CPU on a machine without one.
  target_link_libraries(longctx_cuda PUBLIC CUDA::cudart_static)
  target_compile_options(longctx_cuda PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr>)
else()
  list(APPEND LONGCTX_LIB_SOURCES ${CMAKE_CURRENT_LIST_DIR}/cuda_absent.cpp)
endif()
