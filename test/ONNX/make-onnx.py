#!/usr/bin/python3
"""Writes small ONNX graphs for the tests, protobuf by hand (no onnx package):

  make-onnx.py OUT_DIR

  graph.onnx      X[4,64] -> MatMul(W1[64,128], initializer) -> Relu
                  -> Gemm(B[32,128], transB=1, C[32]) -> MatMul(W3[32,48],
                  a Constant node) -> Y[4,48]; plus a small MatMul (W4[48,8])
  external.onnx   the same graph with W1 in external data (weights.bin)
  x.f32           the input, 4 x 64 float32
and hostile variants (truncated, external data missing or outside its file,
a weight of the wrong data type, dims that disagree with the data, a varint
that never ends, a length past the end)."""
import os
import random
import struct
import sys


def varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(number, wire, payload):
    tag = varint(number << 3 | wire)
    if wire == 2:
        return tag + varint(len(payload)) + payload
    return tag + payload


def s(number, text):
    return field(number, 2, text.encode() if isinstance(text, str) else text)


def i(number, v):
    return field(number, 0, varint(v))


def tensor(name, dims, values=None, dtype=1, raw=None, external=None):
    t = b"".join(i(1, d) for d in dims) + i(2, dtype) + s(8, name)
    if external:
        location, offset, length = external
        for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
            t += s(13, s(1, k) + s(2, v))
        t += i(14, 1)
    else:
        t += s(9, raw if raw is not None else struct.pack("<%df" % len(values), *values))
    return t


def node(op, inputs, outputs, name, attrs=b"", domain=""):
    n = b"".join(s(1, x) for x in inputs) + b"".join(s(2, x) for x in outputs)
    n += s(3, name) + s(4, op) + attrs
    return n + (s(7, domain) if domain else b"")


def attr_int(name, v):
    return s(5, s(1, name) + i(3, v) + i(20, 2))


def attr_tensor(name, t):
    return s(5, s(1, name) + s(5, t) + i(20, 4))


def value_info(name, dims):
    shape = b"".join(s(1, i(1, d)) for d in dims)
    return s(1, name) + s(2, s(1, i(1, 1) + s(2, shape)))


def model(graph):
    return i(1, 8) + s(2, "qc-test") + s(7, graph) + s(8, i(2, 17))


rng = random.Random(5)
W = {n: [rng.gauss(0, 0.3) for _ in range(a * b)] for n, a, b in
     (("W1", 64, 128), ("B2", 32, 128), ("W3", 32, 48), ("W4", 48, 8))}
C2 = [rng.gauss(0, 0.1) for _ in range(32)]


def graph(w1=None, w1_dtype=1, w1_dims=(64, 128)):
    nodes = [node("MatMul", ["X", "W1"], ["h1"], "mm1"),
             node("Relu", ["h1"], ["r1"], "relu1"),
             node("Gemm", ["r1", "B2", "C2"], ["h2"], "gemm2", attr_int("transB", 1)),
             node("Constant", [], ["W3"], "w3const",
                  attr_tensor("value", tensor("W3", [32, 48], W["W3"]))),
             node("MatMul", ["h2", "W3"], ["Y"], "mm3"),
             node("MatMul", ["Y", "W4"], ["Z"], "mm4")]
    inits = [w1 if w1 is not None else tensor("W1", list(w1_dims), W["W1"], dtype=w1_dtype)
             if w1_dtype == 1 else tensor("W1", list(w1_dims), raw=bytes(64 * 128), dtype=w1_dtype),
             tensor("B2", [32, 128], W["B2"]), tensor("C2", [32], C2),
             tensor("W4", [48, 8], W["W4"])]
    g = b"".join(s(1, n) for n in nodes) + s(2, "qc-test-graph")
    g += b"".join(s(5, t) for t in inits)
    g += s(11, value_info("X", [4, 64])) + s(12, value_info("Y", [4, 48]))
    g += s(12, value_info("Z", [4, 8]))
    return g


out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


good = model(graph())
write("graph.onnx", good)
w1 = struct.pack("<%df" % len(W["W1"]), *W["W1"])
write("weights.bin", b"\0" * 16 + w1)
write("external.onnx", model(graph(tensor("W1", [64, 128], external=("weights.bin", 16, len(w1))))))
write("x.f32", struct.pack("<256f", *[rng.gauss(0, 1) for _ in range(256)]))
for name, values in list(W.items()) + [("C2", C2)]:  # for reference-graph.py
    write("w-%s.f32" % name, struct.pack("<%df" % len(values), *values))
# A fuzzing seed small enough for -max_len: X[1,8] x W[8,16] (initializer)
# -> Gemm with a Constant B[4,16], transB.
small = [node("MatMul", ["X", "W"], ["h"], "mm"),
         node("Constant", [], ["B"], "bconst",
              attr_tensor("value", tensor("B", [4, 16], [0.5] * 64))),
         node("Gemm", ["h", "B"], ["Y"], "gemm", attr_int("transB", 1))]
write("seed.onnx", model(b"".join(s(1, n) for n in small) + s(2, "seed") +
                         s(5, tensor("W", [8, 16], [0.25] * 128)) +
                         s(11, value_info("X", [1, 8])) + s(12, value_info("Y", [1, 4]))))
# Hostile.
write("truncated.onnx", good[: len(good) // 2])
write("missing-external.onnx", model(graph(tensor("W1", [64, 128], external=("absent.bin", 0, len(w1))))))
write("outside-external.onnx", model(graph(tensor("W1", [64, 128], external=("weights.bin", 16, len(w1) + 4)))))
write("escaping-external.onnx", model(graph(tensor("W1", [64, 128], external=("../weights.bin", 0, 4)))))
write("int8-weight.onnx", model(graph(w1_dtype=3)))
write("wrong-dims.onnx", model(graph(w1_dims=(64, 129))))
write("endless-varint.onnx", i(1, 8) + b"\x10" + b"\xff" * 12)
write("long-length.onnx", i(1, 8) + s(7, b"")[:1] + varint(1 << 40) + b"\0" * 8)
write("no-graph.onnx", i(1, 8) + s(2, "qc-test"))
nan = struct.pack("<%df" % (64 * 128), *([0.5] * 100 + [float("nan")] + [0.5] * (64 * 128 - 101)))
write("nan-weight.onnx", model(graph(tensor("W1", [64, 128], raw=nan))))
