#!/usr/bin/python3
"""Compares two llama.cpp legacy imatrix files (.dat), and optionally their
X^T X files, entry by entry, read independently of qc's reader.

    compare-imatrix.py A.dat B.dat [--xtx]

Prints the entry counts, whether the names, call counts and widths agree,
and the largest relative difference of any value (|a - b| / max|a|, per
entry): the statistics of two forward passes of the same model agree to
float rounding.
"""
import struct
import sys

import numpy as np


def read_dat(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack_from("<i", data, 0)
    pos, out = 4, {}
    for _ in range(n):
        (length,) = struct.unpack_from("<i", data, pos)
        name = data[pos + 4:pos + 4 + length].decode()
        pos += 4 + length
        calls, cols = struct.unpack_from("<ii", data, pos)
        pos += 8
        out[name] = (calls, np.frombuffer(data, "<f4", cols, pos).astype(np.float64))
        pos += 4 * cols
    return out


def read_xtx(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack_from("<I", data, 0)
    pos, out = 4, {}
    for _ in range(n):
        (length,) = struct.unpack_from("<I", data, pos)
        name = data[pos + 4:pos + 4 + length].decode()
        pos += 4 + length
        cols, rows = struct.unpack_from("<IQ", data, pos)
        pos += 12
        out[name] = (rows, np.frombuffer(data, "<f8", cols * cols, pos))
        pos += 8 * cols * cols
    return out


def worst(a, b):
    diff = 0.0
    for name in a:
        x, y = a[name][1], b[name][1]
        diff = max(diff, float(np.max(np.abs(x - y)) / max(np.max(np.abs(x)), 1e-30)))
    return diff


def main():
    a, b = read_dat(sys.argv[1]), read_dat(sys.argv[2])
    print(f"entries: {len(a)} and {len(b)}")
    same = sorted(a) == sorted(b) and all(
        a[k][0] == b[k][0] and len(a[k][1]) == len(b[k][1]) for k in a)
    print(f"names, calls and widths agree: {'yes' if same else 'no'}")
    if not same:
        return 1
    print(f"imatrix max relative difference: {worst(a, b):.2e}")
    if "--xtx" in sys.argv:
        xa, xb = read_xtx(sys.argv[1] + ".xtx"), read_xtx(sys.argv[2] + ".xtx")
        rows = all(xa[k][0] == xb[k][0] for k in xa) and sorted(xa) == sorted(xb)
        print(f"xtx rows agree: {'yes' if rows else 'no'}")
        print(f"xtx max relative difference: {worst(xa, xb):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
