#!/usr/bin/python3
"""Writes test/Import/corpus: a tiny valid model in each format and hostile
variants of it (bad magic, truncation, huge counts, offsets past the end,
overlapping tensors, unknown types, shape mismatches, invalid UTF-8). The lit
test test/Import/hostile-inputs.test expects a clear error for each."""
import json
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "test/Import/corpus"
DIM, HIDDEN, HEADS, KV, VOCAB, CTX = 8, 16, 2, 1, 8, 16
KVDIM = DIM // HEADS * KV


def floats(n, seed):
    return [((i * 37 + seed * 11) % 17 - 8) / 64.0 for i in range(n)]


def tensors():
    t = [("token_embd.weight", [VOCAB, DIM]), ("output_norm.weight", [DIM]),
         ("blk.0.attn_norm.weight", [DIM]), ("blk.0.attn_q.weight", [DIM, DIM]),
         ("blk.0.attn_k.weight", [KVDIM, DIM]), ("blk.0.attn_v.weight", [KVDIM, DIM]),
         ("blk.0.attn_output.weight", [DIM, DIM]), ("blk.0.ffn_norm.weight", [DIM]),
         ("blk.0.ffn_gate.weight", [HIDDEN, DIM]), ("blk.0.ffn_up.weight", [HIDDEN, DIM]),
         ("blk.0.ffn_down.weight", [DIM, HIDDEN])]
    return t


TOKENS = ["<unk>", "<s>", "</s>", "\u2581a", "a", "b", "\u2581", "ab"]


def gguf_string(s):
    b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


def gguf(mutate=None):
    """A valid GGUF v3; `mutate` may edit the pieces before assembly."""
    kv = [("general.architecture", 8, "llama"),
          ("llama.embedding_length", 4, DIM), ("llama.feed_forward_length", 4, HIDDEN),
          ("llama.block_count", 4, 1), ("llama.attention.head_count", 4, HEADS),
          ("llama.attention.head_count_kv", 4, KV), ("llama.context_length", 4, CTX),
          ("tokenizer.ggml.model", 8, "llama"),
          ("tokenizer.ggml.tokens", 9, (8, TOKENS)),
          ("tokenizer.ggml.scores", 9, (6, [0.0, 0.0, 0.0, -1.0, -2.0, -3.0, -4.0, -0.5]))]
    ts = [{"name": n, "shape": s, "type": 0} for n, s in tensors()]
    ctl = {"magic": b"GGUF", "version": 3, "kv": kv, "tensors": ts,
           "tensor_count": None, "kv_count": None, "offsets": None, "truncate": None}
    if mutate:
        mutate(ctl)
    out = bytearray(ctl["magic"])
    out += struct.pack("<I", ctl["version"])
    out += struct.pack("<QQ", ctl["tensor_count"] if ctl["tensor_count"] is not None else len(ts),
                       ctl["kv_count"] if ctl["kv_count"] is not None else len(ctl["kv"]))
    for key, vtype, val in ctl["kv"]:
        out += gguf_string(key) + struct.pack("<I", vtype)
        if vtype == 8:
            out += gguf_string(val)
        elif vtype == 4:
            out += struct.pack("<I", val)
        elif vtype == 9:
            et, items = val
            out += struct.pack("<IQ", et, len(items))
            for it in items:
                out += gguf_string(it) if et == 8 else struct.pack("<f", it)
        else:
            out += struct.pack("<I", val)
    data = bytearray()
    offsets = []
    for i, t in enumerate(ctl["tensors"]):
        n = 1
        for d in t["shape"]:
            n *= d
        offsets.append(len(data))
        data += struct.pack("<%df" % n, *floats(n, i))
        while len(data) % 32:
            data += b"\0"
    if ctl["offsets"]:
        offsets = ctl["offsets"](offsets)
    for t, off in zip(ctl["tensors"], offsets):
        out += gguf_string(t["name"]) + struct.pack("<I", len(t["shape"]))
        for d in reversed(t["shape"]):
            out += struct.pack("<Q", d)
        out += struct.pack("<IQ", t["type"], off)
    while len(out) % 32:
        out += b"\0"
    out += data
    if ctl["truncate"]:
        out = out[:ctl["truncate"](len(out))]
    return bytes(out)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def llama2c(header=None, truncate=None, nan=False):
    h = header or [DIM, HIDDEN, 1, HEADS, KV, VOCAB, CTX]
    n = VOCAB * DIM + DIM + DIM * DIM + 2 * KVDIM * DIM + DIM * DIM + DIM + 3 * HIDDEN * DIM + DIM
    n += CTX * (DIM // HEADS)
    vals = floats(n, 3)
    if nan:
        vals[5] = float("nan")
    out = struct.pack("<7i", *h) + struct.pack("<%df" % n, *vals)
    return out[:truncate] if truncate else out


def tokenizer_bin(max_len=8, override_len=None, count=VOCAB):
    out = struct.pack("<I", max_len)
    for i, t in enumerate(TOKENS[:count]):
        b = t.replace("\u2581", " ").encode()
        out += struct.pack("<fI", -float(i), override_len if (override_len and i == 4) else len(b)) + b
    return out


def safetensors(header, data=b""):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def main():
    os.makedirs(OUT, exist_ok=True)
    write("valid.gguf", gguf())
    write("bad-magic.gguf", gguf(lambda c: c.update(magic=b"GGUX")))
    write("bad-version.gguf", gguf(lambda c: c.update(version=7)))
    write("truncated.gguf", gguf(lambda c: c.update(truncate=lambda n: n // 2)))
    write("huge-tensor-count.gguf", gguf(lambda c: c.update(tensor_count=1 << 60)))
    write("huge-kv-count.gguf", gguf(lambda c: c.update(kv_count=1 << 40)))
    write("offset-past-end.gguf", gguf(lambda c: c.update(offsets=lambda o: o[:-1] + [1 << 40])))
    write("overlapping-tensors.gguf", gguf(lambda c: c.update(offsets=lambda o: [0] * len(o))))

    def unknown_type(c):
        c["tensors"][3]["type"] = 99
    write("unknown-type.gguf", gguf(unknown_type))

    def shape_mismatch(c):
        c["tensors"][3]["shape"] = [DIM // 2, DIM]
    write("shape-mismatch.gguf", gguf(shape_mismatch))

    def bad_utf8(c):
        toks = list(TOKENS)
        toks[5] = b"\xff\xfe"
        c["kv"][8] = ("tokenizer.ggml.tokens", 9, (8, toks))
    write("invalid-utf8-vocab.gguf", gguf(bad_utf8))

    def missing_key(c):
        c["kv"] = [kv for kv in c["kv"] if kv[0] != "llama.block_count"]
    write("missing-key.gguf", gguf(missing_key))

    def unknown_value_type(c):
        c["kv"].append(("x.weird", 77, 0))
    write("unknown-value-type.gguf", gguf(unknown_value_type))

    def vocab_mismatch(c):
        c["kv"][9] = ("tokenizer.ggml.scores", 9, (6, [0.0] * 3))
    write("scores-length-mismatch.gguf", gguf(vocab_mismatch))

    def huge_string(c):
        c["kv"][0] = ("general.architecture", 8, "llama")
        c["magic"] = b"GGUF"
    # a key whose length field claims 2^62 bytes
    bad = bytearray(gguf())
    key_at = 4 + 4 + 16
    bad[key_at:key_at + 8] = struct.pack("<Q", 1 << 62)
    write("huge-string.gguf", bytes(bad))

    write("model.bin", llama2c())
    write("tok.bin", tokenizer_bin())
    write("negative-dim.bin", llama2c(header=[-8, HIDDEN, 1, HEADS, KV, VOCAB, CTX]))
    write("heads-mismatch.bin", llama2c(header=[DIM, HIDDEN, 1, 3, KV, VOCAB, CTX]))
    write("truncated.bin", llama2c(truncate=200))
    write("huge-dims.bin", llama2c(header=[1 << 24, 1 << 24, 1 << 24, 1, 1, VOCAB, CTX]))
    write("nan-weight.bin", llama2c(nan=True))
    write("tok-too-long.bin", tokenizer_bin(override_len=1000))
    write("tok-truncated.bin", tokenizer_bin(count=4))

    os.makedirs(os.path.join(OUT, "hf-bad-offsets"), exist_ok=True)
    cfg = {"architectures": ["LlamaForCausalLM"], "hidden_size": DIM, "intermediate_size": HIDDEN,
           "num_hidden_layers": 1, "num_attention_heads": HEADS, "num_key_value_heads": KV,
           "vocab_size": VOCAB}
    with open(os.path.join(OUT, "hf-bad-offsets", "config.json"), "w") as f:
        json.dump(cfg, f)
    write("hf-bad-offsets/model.safetensors",
          safetensors({"model.norm.weight": {"dtype": "F32", "shape": [DIM],
                                             "data_offsets": [0, 1 << 40]}}, b"\0" * 32))
    # Sharded Hugging Face directories (model.safetensors.index.json).
    norm = {"model.norm.weight": {"dtype": "F32", "shape": [DIM], "data_offsets": [0, 4 * DIM]}}
    norm_data = struct.pack("<%df" % DIM, *floats(DIM, 5))

    def hf_dir(name, index=None, shards=(), tokenizer=None):
        os.makedirs(os.path.join(OUT, name), exist_ok=True)
        with open(os.path.join(OUT, name, "config.json"), "w") as f:
            json.dump(cfg, f)
        if index is not None:
            write(name + "/model.safetensors.index.json",
                  index if isinstance(index, bytes) else json.dumps(index).encode())
        for shard, header, data in shards:
            write(name + "/" + shard, safetensors(header, data))
        if tokenizer is not None:
            write(name + "/tokenizer.json", tokenizer)

    one = "model-00001-of-00002.safetensors"
    two = "model-00002-of-00002.safetensors"
    hf_dir("hf-missing-shard", {"weight_map": {"model.norm.weight": one, "lm_head.weight": two}},
           [(one, norm, norm_data)])
    hf_dir("hf-shard-path", {"weight_map": {"model.norm.weight": "../valid.gguf"}})
    hf_dir("hf-bad-index", b'{"weight_map": {"model.norm.weight": ')
    hf_dir("hf-duplicate-tensor", {"weight_map": {"model.norm.weight": one, "x": two}},
           [(one, norm, norm_data), (two, norm, norm_data)])
    hf_dir("hf-missing-tensor", None, [("model.safetensors", norm, norm_data)])
    hf_dir("hf-bad-tokenizer", None, [("model.safetensors", norm, norm_data)],
           b'{"model": {"type": "BPE", "vocab": {"a": 70000}, "merges": []}}')
    write("huge-header.safetensors", struct.pack("<Q", 1 << 50) + b"{}")
    write("bad-json.safetensors", struct.pack("<Q", 5) + b"{\"a\":")
    write("bad-dtype.safetensors",
          safetensors({"x": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}, b"\0" * 4))
    write("size-mismatch.safetensors",
          safetensors({"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}, b"\0" * 8))


main()
