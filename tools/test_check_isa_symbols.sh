#!/bin/sh
# Self-test of check_isa_symbols.sh: an object named like a per-ISA file that defines an inline
# function (a weak symbol) must be rejected, and one with only internal-linkage code accepted.
# Usage: test_check_isa_symbols.sh CXX CHECK_SCRIPT
cxx=$1
check=$2
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
printf 'inline int twice(int x) { return 2 * x; }\nint use(int x) { return twice(x); }\n' \
  >"$dir/weak.cpp"
printf 'namespace { int twice(int x) { return 2 * x; } }\nint use(int x) { return twice(x); }\n' \
  >"$dir/local.cpp"
"$cxx" -O0 -c "$dir/weak.cpp" -o "$dir/weak_avx2.cpp.o" || exit 1
"$cxx" -O0 -c "$dir/local.cpp" -o "$dir/local_avx512.cpp.o" || exit 1
if sh "$check" "$dir/weak_avx2.cpp.o" >/dev/null; then
  echo "FAIL: a weak inline function in a per-ISA object was not reported"
  exit 1
fi
if ! sh "$check" "$dir/local_avx512.cpp.o"; then
  echo "FAIL: an object with internal-linkage code only was reported"
  exit 1
fi
echo "check_isa_symbols.sh rejects weak symbols and accepts local ones"
