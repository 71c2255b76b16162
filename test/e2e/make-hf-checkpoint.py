#!/usr/bin/python3
"""Writes a llama2.c checkpoint as a Hugging Face LlamaForCausalLM directory
(config.json + safetensors, optionally sharded), with Q/K rows in Hugging
Face's rotate-half order, so the safetensors reader and its RoPE permutation
can be checked against the llama2.c reader on the same weights.
With --qwen2 it writes a Qwen2ForCausalLM instead: Q/K kept in rotate-half
order (Qwen2 uses NeoX RoPE, no permutation on import) and zero Q/K/V biases,
which must give the very same model.
With --bf16 the tensors are BF16 (truncated, as published checkpoints are).
usage: make-hf-checkpoint.py MODEL.bin OUTDIR [--shards N] [--qwen2] [--bf16]"""
import json
import os
import struct
import sys

src, out = sys.argv[1], sys.argv[2]
flags = sys.argv[3:]
shards = int(flags[flags.index("--shards") + 1]) if "--shards" in flags else 1
qwen2 = "--qwen2" in flags
bf16 = "--bf16" in flags
data = open(src, "rb").read()
dim, hidden, layers, heads, kv, vocab, seq = struct.unpack_from("<7i", data)
shared = vocab > 0
vocab = abs(vocab)
hd = dim // heads
kvdim = kv * hd
pos = 28


def take(n):
    global pos
    vals = struct.unpack_from("<%df" % n, data, pos)
    pos += 4 * n
    return list(vals)


def per_layer(rows, cols):
    flat = take(layers * rows * cols)
    return [flat[i * rows * cols:(i + 1) * rows * cols] for i in range(layers)]


def to_hf(w, nheads, cols):
    """Interleaved (GGUF / llama2.c) rows -> rotate-half rows per head."""
    out = [None] * (len(w) // cols)
    for h in range(nheads):
        for i in range(hd // 2):
            for half in range(2):
                src_row = h * hd + 2 * i + half
                dst_row = h * hd + half * hd // 2 + i
                out[dst_row] = w[src_row * cols:(src_row + 1) * cols]
    return [x for row in out for x in row]


tensors = {}
tensors["model.embed_tokens.weight"] = ([vocab, dim], take(vocab * dim))
att_norm = per_layer(1, dim)
wq, wk, wv, wo = per_layer(dim, dim), per_layer(kvdim, dim), per_layer(kvdim, dim), per_layer(dim, dim)
ffn_norm = per_layer(1, dim)
w1, w2, w3 = per_layer(hidden, dim), per_layer(dim, hidden), per_layer(hidden, dim)
final = take(dim)
take(seq * hd)  # RoPE tables
if not shared:
    tensors["lm_head.weight"] = ([vocab, dim], take(vocab * dim))
for l in range(layers):
    p = "model.layers.%d." % l
    tensors[p + "input_layernorm.weight"] = ([dim], att_norm[l])
    tensors[p + "self_attn.q_proj.weight"] = ([dim, dim], to_hf(wq[l], heads, dim))
    tensors[p + "self_attn.k_proj.weight"] = ([kvdim, dim], to_hf(wk[l], kv, dim))
    tensors[p + "self_attn.v_proj.weight"] = ([kvdim, dim], wv[l])
    if qwen2:
        tensors[p + "self_attn.q_proj.bias"] = ([dim], [0.0] * dim)
        tensors[p + "self_attn.k_proj.bias"] = ([kvdim], [0.0] * kvdim)
        tensors[p + "self_attn.v_proj.bias"] = ([kvdim], [0.0] * kvdim)
    tensors[p + "self_attn.o_proj.weight"] = ([dim, dim], wo[l])
    tensors[p + "post_attention_layernorm.weight"] = ([dim], ffn_norm[l])
    tensors[p + "mlp.gate_proj.weight"] = ([hidden, dim], w1[l])
    tensors[p + "mlp.down_proj.weight"] = ([dim, hidden], w2[l])
    tensors[p + "mlp.up_proj.weight"] = ([hidden, dim], w3[l])
tensors["model.norm.weight"] = ([dim], final)

os.makedirs(out, exist_ok=True)
names = sorted(tensors)
groups = [names[i::shards] for i in range(shards)]
weight_map = {}
for i, group in enumerate(groups):
    fname = "model.safetensors" if shards == 1 else "model-%05d-of-%05d.safetensors" % (i + 1, shards)
    header, blob = {}, bytearray()
    for n in group:
        shape, vals = tensors[n]
        b = struct.pack("<%df" % len(vals), *vals)
        if bf16:  # the upper half of each little-endian f32
            b = b"".join(b[i + 2:i + 4] for i in range(0, len(b), 4))
        dtype = "BF16" if bf16 else "F32"
        header[n] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(b)]}
        blob += b
        weight_map[n] = fname
    h = json.dumps(header).encode()
    with open(os.path.join(out, fname), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + blob)
if shards > 1:
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"weight_map": weight_map}, f)
with open(os.path.join(out, "config.json"), "w") as f:
    json.dump({"architectures": ["Qwen2ForCausalLM" if qwen2 else "LlamaForCausalLM"],
               "hidden_size": dim,
               "intermediate_size": hidden, "num_hidden_layers": layers,
               "num_attention_heads": heads, "num_key_value_heads": kv,
               "vocab_size": vocab, "max_position_embeddings": seq,
               "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
               "tie_word_embeddings": shared}, f)
