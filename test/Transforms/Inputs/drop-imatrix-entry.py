#!/usr/bin/python3
"""drop-imatrix-entry.py IN NAME OUT: copies a llama.cpp imatrix (.dat:
int32 count; per entry int32 name length, name, int32 calls, int32 values,
float32 values; then the trailer) without the entry NAME, as llama-imatrix
writes a model whose tied output head has no entry of its own."""
import struct
import sys

src, drop, dst = sys.argv[1:4]
data = open(src, "rb").read()
(count,) = struct.unpack_from("<i", data, 0)
at, kept = 4, []
for _ in range(count):
    (length,) = struct.unpack_from("<i", data, at)
    name = data[at + 4:at + 4 + length].decode()
    calls, values = struct.unpack_from("<ii", data, at + 4 + length)
    end = at + 4 + length + 8 + 4 * values
    if name != drop:
        kept.append(data[at:end])
    at = end
with open(dst, "wb") as f:
    f.write(struct.pack("<i", len(kept)) + b"".join(kept) + data[at:])
