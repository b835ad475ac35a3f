#!/bin/sh
# Checks the build rule of src/kernels/cpu/cpu_kernels.h: object files compiled for AVX2 or
# AVX-512 (names ending in _avx2.cpp.o / _avx512.cpp.o) must not define weak or unique symbols
# (inline functions and template instantiations the linker merges across files: it could keep
# an AVX-512 copy and run it on a CPU without AVX-512). Usage: check_isa_symbols.sh OBJECTS...
# (CTest passes every object of longctx_lib; the others are skipped).
status=0
checked=0
for obj in "$@"; do
  case "$obj" in
    *_avx2.cpp.o | *_avx512.cpp.o) ;;
    *) continue ;;
  esac
  checked=$((checked + 1))
  # DW.ref.__gxx_personality_v0 is a data word (the address of the C++ personality routine)
  # that any object with exception tables may carry as a weak symbol; it holds no code.
  bad=$(nm --defined-only "$obj" | awk '$2 ~ /^[WVu]$/ && $3 !~ /^DW\.ref\./ {print $3}')
  if [ -n "$bad" ]; then
    echo "$obj defines weak/unique symbols (an inline function or template reached it):"
    echo "$bad" | c++filt | sed 's/^/  /'
    status=1
  fi
done
if [ "$checked" -eq 0 ]; then
  echo "no *_avx2/*_avx512 objects given" >&2
  exit 1
fi
echo "checked $checked per-ISA objects"
exit $status
