"""Read a safetensors file with NumPy alone and print {name: {shape, dtype, sum}} as JSON.

Used by the TypeScript tests to check that plugformer's weight files open outside plugformer. The header is parsed
here from the spec rather than by the `safetensors` package; when that package is importable, the file is also
loaded with it and every array must match.

Usage: python3 read_safetensors.py FILE
"""
import json
import struct
import sys

import numpy as np

NUMPY_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    (header_size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_size].decode("utf-8"))
    header.pop("__metadata__", None)
    buffer = raw[8 + header_size :]
    arrays = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        chunk = buffer[begin:end]
        if entry["dtype"] == "BF16":
            # bfloat16 is the top half of a float32; NumPy has no native type for it.
            halves = np.frombuffer(chunk, dtype="<u2").astype(np.uint32) << 16
            array = halves.view(np.float32)
        else:
            array = np.frombuffer(chunk, dtype=NUMPY_DTYPES[entry["dtype"]])
        arrays[name] = (entry["dtype"], array.reshape(entry["shape"]))
    return arrays


def compare_with_reference_loader(path, arrays):
    try:
        from safetensors.numpy import load_file
    except ImportError:
        return
    reference = load_file(path)
    if set(reference) != set(arrays):
        raise SystemExit(f"safetensors package sees tensors {sorted(reference)}, header parser sees {sorted(arrays)}")
    for name, (dtype, array) in arrays.items():
        if dtype == "BF16":
            continue  # NumPy cannot represent bfloat16, so the reference loader has nothing to compare against.
        if not np.array_equal(reference[name], array):
            raise SystemExit(f"tensor {name}: safetensors package and header parser disagree")


def main():
    path = sys.argv[1]
    arrays = read(path)
    compare_with_reference_loader(path, arrays)
    summary = {
        name: {"shape": list(array.shape), "dtype": dtype, "sum": float(array.astype(np.float64).sum())}
        for name, (dtype, array) in arrays.items()
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
