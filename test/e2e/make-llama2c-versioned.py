#!/usr/bin/python3
"""Rewrites a legacy (v0) llama2.c checkpoint in export.py's versioned format:
version 1 (f32) or version 2 (int8 groups with f32 scales), same weights.
usage: make-llama2c-versioned.py IN.bin OUT.bin VERSION [GROUP]"""
import struct
import sys

src, dst, version = sys.argv[1], sys.argv[2], int(sys.argv[3])
group = int(sys.argv[4]) if len(sys.argv) > 4 else 64
data = open(src, "rb").read()
dim, hidden, layers, heads, kv, vocab, seq = struct.unpack_from("<7i", data)
shared = vocab > 0
vocab = abs(vocab)
kvdim = kv * (dim // heads)
pos = 28


def take(n):
    global pos
    vals = struct.unpack_from("<%df" % n, data, pos)
    pos += 4 * n
    return list(vals)


emb = take(vocab * dim)
att = take(layers * dim)
wq, wk, wv, wo = take(layers * dim * dim), take(layers * kvdim * dim), take(layers * kvdim * dim), take(layers * dim * dim)
ffn = take(layers * dim)
w1, w2, w3 = take(layers * hidden * dim), take(layers * dim * hidden), take(layers * hidden * dim)
final = take(dim)
take(seq * (dim // heads))
out = take(vocab * dim) if not shared else None

header = struct.pack("<Ii", 0x616B3432, version) + struct.pack("<7i", dim, hidden, layers, heads, kv, vocab, seq)
header += struct.pack("<B", 1 if shared else 0)
if version == 2:
    header += struct.pack("<i", group)
header += b"\0" * (256 - len(header))


def f32(vals):
    return struct.pack("<%df" % len(vals), *vals)


def q8(vals):
    codes, scales = bytearray(), []
    for g in range(0, len(vals), group):
        chunk = vals[g:g + group]
        scale = max(abs(x) for x in chunk) / 127.0
        scales.append(scale)
        codes += bytes((int(round(x / scale)) if scale else 0) & 0xFF for x in chunk)
    return bytes(codes) + f32(scales)


body = f32(att) + f32(ffn) + f32(final)
matrix = q8 if version == 2 else f32
for w in [emb, wq, wk, wv, wo, w1, w2, w3] + ([out] if out else []):
    body += matrix(w)
open(dst, "wb").write(header + body)
