#!/usr/bin/env python3
"""Rewrite a GGUF with every tensor dequantized to F32 (same metadata, same tensor names).

Usage: python3 tools/gguf_dequantize.py IN.gguf OUT.gguf
Dequantization is done by the gguf package (an implementation independent of longctx). llama.cpp
keeps activations in f32 for F32 weights, so llama.cpp on OUT.gguf computes the same function as
longctx's reference on IN.gguf (which dequantizes weights and keeps f32 activations): any gap
between those two isolates longctx bugs from llama.cpp's activation rounding on IN.gguf.
"""
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter
from gguf.quants import dequantize

SKIP = {"GGUF.version", "GGUF.tensor_count", "GGUF.kv_count", "general.architecture",
        "general.file_type"}


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    reader = GGUFReader(sys.argv[1])
    arch = reader.fields["general.architecture"].contents()
    writer = GGUFWriter(sys.argv[2], arch)
    for key, field in reader.fields.items():
        if key in SKIP:
            continue
        vtype = field.types[0]
        sub = field.types[1] if vtype == GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), vtype, sub_type=sub)
    writer.add_file_type(0)  # LLAMA_FTYPE_ALL_F32
    for t in reader.tensors:
        w = dequantize(t.data, t.tensor_type).astype(np.float32)
        writer.add_tensor(t.name, w)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
