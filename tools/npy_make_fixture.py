#!/usr/bin/env python3
# Writes the .npy fixtures of tests/core (test_npy.cpp) with numpy itself, the oracle for our
# reader (it must read them) and our writer (it must produce the same bytes).
# Command (from the repo root):  python3 tools/npy_make_fixture.py tests/core/data
import sys
from pathlib import Path

import numpy as np


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    # 3x4: 0, 0.5, ..., 5.5 (exact in float32); read back and written byte for byte.
    np.save(out / "npy_numpy.npy", np.arange(12, dtype=np.float32).reshape(3, 4) * np.float32(0.5))
    # 0x5: an empty 2-D array; header only.
    np.save(out / "npy_numpy_empty.npy", np.zeros((0, 5), dtype=np.float32))
    # 1-D of length 5: -2, -1, 0, 1, 2 (the reader accepts rank 1).
    np.save(out / "npy_numpy_1d.npy", np.arange(-2, 3, dtype=np.float32))
    # 1000x3 with values (i mod 97) * 0.25 - 12 (exact): a 4-digit row count in the header.
    big = (np.arange(3000, dtype=np.float32) % 97) * np.float32(0.25) - np.float32(12)
    np.save(out / "npy_numpy_1000x3.npy", big.reshape(1000, 3))
    # Format 2.0 (4-byte header length) of the same 3x4 array.
    with open(out / "npy_numpy_v2.npy", "wb") as f:
        arr = np.arange(12, dtype=np.float32).reshape(3, 4) * np.float32(0.5)
        np.lib.format.write_array(f, arr, version=(2, 0))


if __name__ == "__main__":
    main()
