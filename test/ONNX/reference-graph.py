#!/usr/bin/python3
"""make-onnx.py's graph computed in numpy with each weight as `format`
stores it (qc.codec: quantized, then dequantized; rows = W^T, padded to
whole blocks), written as ort-run.js writes its outputs. ONNX Runtime on
the MatMulNBits file must give the same numbers: it checks the packing
(codes, nibble order, scales, zero point) rather than the format's error.

usage: reference-graph.py DIR FORMAT OUT"""
import json
import sys

import numpy as np

import qc

d, fmt, out = sys.argv[1:4]
codec = qc.codec(fmt)


def weight(name, k, n, transposed=False):
    w = np.fromfile("%s/w-%s.f32" % (d, name), np.float32)
    rows = w.reshape(n, k) if transposed else w.reshape(k, n).T
    cols = -(-k // codec.block_size) * codec.block_size
    padded = np.zeros((n, cols), np.float32)
    padded[:, :k] = rows
    return codec.dequantize(codec.quantize(padded), padded.shape)[:, :k].T


x = np.fromfile(d + "/x.f32", np.float32).reshape(4, 64).astype(np.float64)
h = np.maximum(x @ weight("W1", 64, 128), 0)
h = h @ weight("B2", 128, 32, transposed=True) + np.fromfile(d + "/w-C2.f32", np.float32)
y = h @ weight("W3", 32, 48)
z = y @ weight("W4", 48, 8)
for i, v in enumerate((y, z)):
    v.astype(np.float32).tofile("%s.%d.f32" % (out, i))
json.dump([{"name": "Y", "dims": [4, 48]}, {"name": "Z", "dims": [4, 8]}], open(out + ".json", "w"))
