#!/usr/bin/python3
"""Writes an F16 GGUF with a real architecture's shapes and random weights.

For speed measurements only: the weights are noise (normal, std 0.02; norms
1), the vocabulary is placeholder SentencePiece pieces with byte fallback.
llama-quantize turns it into Q4_0 / Q8_0 / Q4_K files that llama.cpp and qc
both load.

    make-synthetic-gguf.py --arch llama-3.2-1b -o model-f16.gguf
"""
import argparse
import struct

import numpy as np

ARCHS = {
    # name: (ggml arch, dim, hidden, layers, heads, kv heads, vocab, tied, theta)
    "llama-3.2-1b": ("llama", 2048, 8192, 16, 32, 8, 128256, True, 500000.0),
    "qwen2.5-0.5b": ("qwen2", 896, 4864, 24, 14, 2, 151936, True, 1000000.0),
    "llama-2-7b": ("llama", 4096, 11008, 32, 32, 32, 32000, False, 10000.0),
    # Small enough for tests, with rows K-quants can hold.
    "tiny": ("llama", 256, 512, 2, 4, 2, 1024, False, 10000.0),
}
F32, F16 = 0, 1
ALIGN = 32


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = gguf_string(key) + struct.pack("<I", vtype)
    if vtype == 4:  # uint32
        return out + struct.pack("<I", value)
    if vtype == 6:  # float32
        return out + struct.pack("<f", value)
    if vtype == 8:  # string
        return out + gguf_string(value)
    raise ValueError(vtype)


def kv_array(key, etype, values):
    out = gguf_string(key) + struct.pack("<IIQ", 9, etype, len(values))
    if etype == 8:
        return out + b"".join(gguf_string(v) for v in values)
    fmt = {6: "f", 5: "i"}[etype]
    return out + np.asarray(values, dtype="<" + fmt + "4" if fmt == "f" else "<i4").tobytes()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--arch", choices=sorted(ARCHS), default="llama-3.2-1b")
    p.add_argument("--context", type=int, default=4096)
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args()
    arch, dim, hidden, layers, heads, kvh, vocab, tied, theta = ARCHS[a.arch]
    hd = dim // heads
    tensors = [("token_embd.weight", (vocab, dim), F16)]
    for l in range(layers):
        b = f"blk.{l}."
        tensors += [(b + "attn_norm.weight", (dim,), F32),
                    (b + "attn_q.weight", (dim, dim), F16),
                    (b + "attn_k.weight", (kvh * hd, dim), F16),
                    (b + "attn_v.weight", (kvh * hd, dim), F16),
                    (b + "attn_output.weight", (dim, dim), F16),
                    (b + "ffn_norm.weight", (dim,), F32),
                    (b + "ffn_gate.weight", (hidden, dim), F16),
                    (b + "ffn_up.weight", (hidden, dim), F16),
                    (b + "ffn_down.weight", (dim, hidden), F16)]
        if arch == "qwen2":
            tensors += [(b + "attn_q.bias", (dim,), F32),
                        (b + "attn_k.bias", (kvh * hd,), F32),
                        (b + "attn_v.bias", (kvh * hd,), F32)]
    tensors.append(("output_norm.weight", (dim,), F32))
    if not tied:
        tensors.append(("output.weight", (vocab, dim), F16))

    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    types = [2, 3, 3] + [6] * 256
    tokens += [f"\u2581w{i}" for i in range(vocab - len(tokens))]
    types += [1] * (vocab - len(types))
    scores = [0.0] * 3 + [0.0] * 256 + [-float(i) for i in range(vocab - 259)]
    meta = [
        kv("general.architecture", 8, arch),
        kv("general.name", 8, f"synthetic {a.arch} (random weights)"),
        kv(f"{arch}.context_length", 4, a.context),
        kv(f"{arch}.embedding_length", 4, dim),
        kv(f"{arch}.feed_forward_length", 4, hidden),
        kv(f"{arch}.block_count", 4, layers),
        kv(f"{arch}.attention.head_count", 4, heads),
        kv(f"{arch}.attention.head_count_kv", 4, kvh),
        kv(f"{arch}.rope.dimension_count", 4, hd),
        kv(f"{arch}.rope.freq_base", 6, theta),
        kv(f"{arch}.attention.layer_norm_rms_epsilon", 6, 1e-5),
        kv("general.file_type", 4, 1),
        kv("tokenizer.ggml.model", 8, "llama"),
        kv_array("tokenizer.ggml.tokens", 8, tokens),
        kv_array("tokenizer.ggml.scores", 6, scores),
        kv_array("tokenizer.ggml.token_type", 5, types),
        kv("tokenizer.ggml.bos_token_id", 4, 1),
        kv("tokenizer.ggml.eos_token_id", 4, 2),
        kv("tokenizer.ggml.unknown_token_id", 4, 0),
    ]
    infos, offset = [], 0
    for name, shape, t in tensors:
        nbytes = int(np.prod(shape)) * (4 if t == F32 else 2)
        infos.append(gguf_string(name) + struct.pack("<I", len(shape)) +
                     b"".join(struct.pack("<Q", d) for d in reversed(shape)) +
                     struct.pack("<IQ", t, offset))
        offset += (nbytes + ALIGN - 1) // ALIGN * ALIGN
    rng = np.random.default_rng(1)
    with open(a.output, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)))
        f.write(b"".join(meta) + b"".join(infos))
        f.write(b"\0" * (-f.tell() % ALIGN))
        for name, shape, t in tensors:
            if t == F32:
                data = np.ones(shape, "<f4") if name.endswith("norm.weight") \
                    else rng.standard_normal(shape, dtype=np.float32) * 0.02
            else:
                data = (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype("<f2")
            f.write(data.tobytes())
            f.write(b"\0" * (-f.tell() % ALIGN))


if __name__ == "__main__":
    main()
