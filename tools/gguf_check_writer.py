#!/usr/bin/env python3
# Reads a GGUF file with the independent Python `gguf` package (GGUFReader), prints its metadata
# and tensors, and validates the content written by tests/gguf/test_gguf_writer.cpp
# (WritesFileForPythonCheck): every metadata value and every tensor byte (a fixed pattern).
#
# Command (from the repo root, after ctest has run test_gguf):
#   python3 tools/gguf_check_writer.py build/gguf_writer_check.gguf
# Pass --print-only to just print any GGUF file.
import struct
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT, GGUFValueType as VT

# Keep in sync with set_all_types() and check_tensors() in test_gguf_writer.cpp.
EXPECTED_KV = {
    "general.architecture": (VT.STRING, "qwen3"),
    "general.alignment": (VT.UINT32, 64),
    "w.u8": (VT.UINT8, 250),
    "w.i8": (VT.INT8, -7),
    "w.u16": (VT.UINT16, 65535),
    "w.i16": (VT.INT16, -32768),
    "w.u32": (VT.UINT32, 4294967295),
    "w.i32": (VT.INT32, -123456789),
    "w.u64": (VT.UINT64, 2**64 - 1),
    "w.i64": (VT.INT64, -(2**63)),
    "w.f32": (VT.FLOAT32, 0.25),
    "w.f64": (VT.FLOAT64, -1e300),
    "w.bool": (VT.BOOL, True),
    "w.str": (VT.STRING, "héllo \"wörld\" 🎉"),
    "w.str_empty": (VT.STRING, ""),
    "w.ключ": (VT.STRING, "unicode key"),
    "w.arr.str": (VT.ARRAY, ["<|im_start|>", "", "ü", "a b"]),
    "w.arr.i32": (VT.ARRAY, [-1, 0, 7]),
    "w.arr.f32": (VT.ARRAY, [1.5, -2.0]),
    "w.arr.bool": (VT.ARRAY, [False, True]),
    "w.arr.u64": (VT.ARRAY, [1, 2**40]),
    "w.arr.empty": (VT.ARRAY, []),
    "w.arr.nested": (VT.ARRAY, [[1, -2], ["x", "yz"]]),
}
EXPECTED_TENSORS = [
    ("token_embd.weight", [64, 7], QT.Q8_0),
    ("blk.0.attn_norm.weight", [33], QT.F32),
    ("blk.0.attn_q.weight", [64, 3, 2], QT.F16),
    ("blk.0.ffn_down.weight", [256, 3], QT.Q4_K),
    ("blk.0.ffn_up.weight", [256, 2], QT.Q6_K),
    ("blk.0.bf16", [5, 1, 2, 3], QT.BF16),
]


def pattern(index, n):
    k = np.arange(n, dtype=np.uint64)
    return ((k * 131 + index * 17 + 7) & 0xFF).astype(np.uint8)


SCALAR_FORMATS = {VT.UINT8: "<B", VT.INT8: "<b", VT.UINT16: "<H", VT.INT16: "<h",
                  VT.UINT32: "<I", VT.INT32: "<i", VT.FLOAT32: "<f", VT.BOOL: "<?",
                  VT.UINT64: "<Q", VT.INT64: "<q", VT.FLOAT64: "<d"}


def decode(buf, pos, vtype):
    """Decodes one value at buf[pos:] (used for nested arrays, which GGUFReader.contents() does
    not descend into); returns (value, next position)."""
    if vtype == VT.STRING:
        (n,) = struct.unpack_from("<Q", buf, pos)
        return bytes(buf[pos + 8:pos + 8 + n]).decode("utf-8"), pos + 8 + n
    if vtype == VT.ARRAY:
        etype, n = struct.unpack_from("<IQ", buf, pos)
        pos += 12
        out = []
        for _ in range(n):
            v, pos = decode(buf, pos, VT(etype))
            out.append(v)
        return out, pos
    fmt = SCALAR_FORMATS[vtype]
    return struct.unpack_from(fmt, buf, pos)[0], pos + struct.calcsize(fmt)


def contents(reader, field):
    """Field value as Python data."""
    if field.types[0] == VT.ARRAY and len(field.types) > 1 and field.types[1] == VT.ARRAY:
        # The field starts with the key (u64 length + bytes), then the u32 value type.
        (klen,) = struct.unpack_from("<Q", reader.data, field.offset)
        return decode(reader.data, field.offset + 8 + klen + 4, VT.ARRAY)[0]
    return field.contents()


def main():
    path = sys.argv[1]
    print_only = "--print-only" in sys.argv
    r = gguf.GGUFReader(path)
    print("%s: alignment %d, data offset %d" % (path, r.alignment, r.data_offset))
    errors = []
    for name, field in r.fields.items():
        if name.startswith("GGUF."):
            continue
        value = contents(r, field)
        print("  %-24s %-14s %s" % (name, "/".join(t.name for t in field.types), str(value)[:70]))
        if print_only:
            continue
        if name not in EXPECTED_KV:
            errors.append("unexpected key " + name)
            continue
        vtype, expected = EXPECTED_KV[name]
        if field.types[0] != vtype:
            errors.append("%s: type %s, expected %s" % (name, field.types[0], vtype))
        if value != expected:
            errors.append("%s: %r, expected %r" % (name, value, expected))
    for t in r.tensors:
        print("  tensor %-24s %-5s %-16s %6d bytes at %d" %
              (t.name, t.tensor_type.name, list(map(int, t.shape)), t.n_bytes, t.data_offset))
    if not print_only:
        missing = set(EXPECTED_KV) - set(r.fields)
        if missing:
            errors.append("missing keys %s" % sorted(missing))
        if len(r.tensors) != len(EXPECTED_TENSORS):
            errors.append("%d tensors, expected %d" % (len(r.tensors), len(EXPECTED_TENSORS)))
        for j, (t, (name, dims, qtype)) in enumerate(zip(r.tensors, EXPECTED_TENSORS)):
            if t.name != name or [int(x) for x in t.shape] != dims or t.tensor_type != qtype:
                errors.append("tensor %d: %s %s %s, expected %s %s %s" %
                              (j, t.name, list(t.shape), t.tensor_type, name, dims, qtype))
            if (t.data_offset - r.data_offset) % r.alignment != 0:
                errors.append("tensor %s: offset not aligned" % t.name)
            raw = np.frombuffer(np.asarray(t.data).tobytes(), dtype=np.uint8)
            if not np.array_equal(raw, pattern(j, t.n_bytes)):
                errors.append("tensor %s: bytes differ from the pattern" % t.name)
    for e in errors:
        print("ERROR:", e)
    if not print_only:
        print("OK: %d keys and %d tensors match" % (len(EXPECTED_KV), len(EXPECTED_TENSORS))
              if not errors else "FAILED: %d errors" % len(errors))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
