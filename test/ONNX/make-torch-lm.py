#!/usr/bin/python3
"""Exports language models to ONNX with torch.onnx.export, as users do, from
the bundled model's weights (a llama2.c checkpoint):

  make-torch-lm.py MODEL.bin OUT_DIR [VARIANT...]

  meta.onnx      llama2.c's model.py: rotary on interleaved pairs from
                 precomputed cos/sin tables, grouped-query attention
  hf.onnx        Hugging Face's Llama: rotate_half on the two halves (q and
                 k rows permuted as its conversion script does), cos/sin
                 computed in the graph from inv_freq
  hf-kv.onnx     the same with past keys/values as inputs and present ones
                 as outputs
  qwen2.onnx     Qwen2's variant: q/k/v biases, rope theta 1e6, eps 1e-6,
                 output tied to the embedding (biases drawn at random, so
                 its reference is torch's own logits)
  external.onnx  meta.onnx with its weights in external data (weights.bin)

and graphs qc does not recognise, each one change to hf.onnx:
  bad-gelu.onnx (GELU instead of SiLU), bad-layernorm.onnx (LayerNorm),
  bad-scale.onnx (scores scaled by 1/head_dim), bad-rope.onnx (Llama 3's
  scaled frequencies).

Each NAME.onnx comes with NAME.logits.npy, torch's float logits [T, vocab] on
the token ids in ids.npy (for hf-kv: the last 8 of them after the first
T - 8 as past)."""
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)


def read_llama2c(path):
    with open(path, "rb") as f:
        dim, hidden, layers, heads, kv, vocab, seq = struct.unpack("7i", f.read(28))
        data = np.frombuffer(f.read(), dtype=np.float32)
    shared = vocab > 0
    vocab = abs(vocab)
    hd = dim // heads
    off = 0

    def take(*shape):
        nonlocal off
        n = int(np.prod(shape))
        out = torch.from_numpy(data[off:off + n].copy()).reshape(shape)
        off += n
        return out

    w = {"emb": take(vocab, dim), "attn_norm": take(layers, dim),
         "wq": take(layers, dim, dim), "wk": take(layers, kv * hd, dim),
         "wv": take(layers, kv * hd, dim), "wo": take(layers, dim, dim),
         "ffn_norm": take(layers, dim), "w1": take(layers, hidden, dim),
         "w2": take(layers, dim, hidden), "w3": take(layers, hidden, dim),
         "norm": take(dim)}
    take(seq, hd // 2)
    take(seq, hd // 2)
    w["out"] = w["emb"] if shared else take(vocab, dim)
    cfg = dict(dim=dim, hidden=hidden, layers=layers, heads=heads, kv=kv,
               vocab=vocab, seq=seq, hd=hd)
    return cfg, w


class RMSNorm(torch.nn.Module):
    def __init__(self, weight, eps, layer=False):
        super().__init__()
        self.weight = torch.nn.Parameter(weight.clone())
        self.eps, self.layer = eps, layer

    def forward(self, x):
        if self.layer:
            return F.layer_norm(x, self.weight.shape, self.weight, None, self.eps)
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def linear(weight, bias=None):
    m = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    m.weight = torch.nn.Parameter(weight.clone())
    if bias is not None:
        m.bias = torch.nn.Parameter(bias.clone())
    return m


def repeat_kv(x, n):  # [B, T, kv, hd] -> [B, T, kv * n, hd]
    if n == 1:
        return x
    b, t, kv, hd = x.shape
    return x[:, :, :, None, :].expand(b, t, kv, n, hd).reshape(b, t, kv * n, hd)


def rope_interleaved(x, cos, sin):  # llama2.c's model.py
    xr, xi = x.float().reshape(x.shape[:-1] + (-1, 2)).unbind(-1)
    cos = cos[None, :, None, :]
    sin = sin[None, :, None, :]
    out_r = xr * cos - xi * sin
    out_i = xr * sin + xi * cos
    return torch.stack([out_r, out_i], dim=-1).flatten(3)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Block(torch.nn.Module):
    def __init__(self, cfg, w, l, style, bias):
        super().__init__()
        self.cfg, self.style = cfg, style
        wq, wk = w["wq"][l], w["wk"][l]
        if style != "meta":  # Hugging Face's permute: pairs become halves
            wq = permute(wq, cfg["heads"], cfg)
            wk = permute(wk, cfg["kv"], cfg)
        b = (lambda n: torch.randn(n) * 0.1) if bias else (lambda n: None)
        self.attn_norm = RMSNorm(w["attn_norm"][l], cfg["eps"], cfg["bad"] == "layernorm")
        self.q = linear(wq, b(wq.shape[0]))
        self.k = linear(wk, b(wk.shape[0]))
        self.v = linear(w["wv"][l], b(wk.shape[0]))
        self.o = linear(w["wo"][l])
        self.ffn_norm = RMSNorm(w["ffn_norm"][l], cfg["eps"])
        self.gate = linear(w["w1"][l])
        self.down = linear(w["w2"][l])
        self.up = linear(w["w3"][l])

    def forward(self, x, cos, sin, mask, past=None):
        c = self.cfg
        bsz, t, _ = x.shape
        h = self.attn_norm(x)
        q = self.q(h).view(bsz, t, c["heads"], c["hd"])
        k = self.k(h).view(bsz, t, c["kv"], c["hd"])
        v = self.v(h).view(bsz, t, c["kv"], c["hd"])
        if self.style == "meta":
            q, k = rope_interleaved(q, cos, sin), rope_interleaved(k, cos, sin)
        else:
            cs, sn = cos[None, :, None, :], sin[None, :, None, :]
            q = q * cs + rotate_half(q) * sn
            k = k * cs + rotate_half(k) * sn
        present = None
        if past is not None:  # [B, kv, P, hd] each
            k = torch.cat([past[0], k.transpose(1, 2)], dim=2).transpose(1, 2)
            v = torch.cat([past[1], v.transpose(1, 2)], dim=2).transpose(1, 2)
            present = (k.transpose(1, 2), v.transpose(1, 2))
        n = c["heads"] // c["kv"]
        k, v = repeat_kv(k, n), repeat_kv(v, n)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        root = c["hd"] if c["bad"] == "scale" else math.sqrt(c["hd"])
        scores = torch.matmul(q, k.transpose(2, 3)) / root
        scores = scores + mask
        p = F.softmax(scores.float(), dim=-1).type_as(q)
        a = torch.matmul(p, v).transpose(1, 2).contiguous().view(bsz, t, -1)
        x = x + self.o(a)
        h = self.ffn_norm(x)
        act = F.gelu if c["bad"] == "gelu" else F.silu
        x = x + self.down(act(self.gate(h)) * self.up(h))
        return x, present


def permute(w, heads, cfg):
    hd = cfg["hd"]
    return w.view(heads, hd // 2, 2, cfg["dim"]).transpose(1, 2).reshape(heads * hd, cfg["dim"])


class LM(torch.nn.Module):
    def __init__(self, cfg, w, style, bias=False, tied=False):
        super().__init__()
        self.cfg, self.style = cfg, style
        self.emb = torch.nn.Embedding(cfg["vocab"], cfg["dim"])
        self.emb.weight = torch.nn.Parameter(w["emb"].clone())
        self.blocks = torch.nn.ModuleList(
            Block(cfg, w, l, style, bias) for l in range(cfg["layers"]))
        self.norm = RMSNorm(w["norm"], cfg["eps"])
        self.out = linear(w["out"])
        if tied:
            self.out.weight = self.emb.weight
        hd = cfg["hd"]
        inv_freq = 1.0 / (cfg["theta"] ** (torch.arange(0, hd, 2).float() / hd))
        if cfg["bad"] == "rope":  # Llama 3: low frequencies divided by 8
            inv_freq = torch.where(inv_freq < 0.05, inv_freq / 8, inv_freq)
        if style == "meta":  # llama2.c: tables precomputed for every position
            f = torch.outer(torch.arange(cfg["seq"]).float(), inv_freq)
            self.register_buffer("freqs_cos", torch.cos(f))
            self.register_buffer("freqs_sin", torch.sin(f))
        else:
            self.register_buffer("inv_freq", inv_freq)

    def forward(self, ids, *past):
        t = ids.shape[1]
        start = past[0].shape[2] if past else 0
        x = self.emb(ids)
        if self.style == "meta":
            cos, sin = self.freqs_cos[:t], self.freqs_sin[:t]
        else:
            pos = torch.arange(start, start + t, dtype=torch.float32)
            f = torch.outer(pos, self.inv_freq)
            emb = torch.cat((f, f), dim=-1)
            cos, sin = emb.cos(), emb.sin()
        mask = torch.full((t, start + t), float("-inf")).triu(start + 1)
        presents = []
        for i, blk in enumerate(self.blocks):
            x, pr = blk(x, cos, sin, mask,
                        (past[2 * i], past[2 * i + 1]) if past else None)
            if pr is not None:
                presents += pr
        logits = self.out(self.norm(x))
        return (logits, *presents) if past else logits


def export(model, path, ids, past=None):
    names = ["input_ids"]
    dyn = {"input_ids": {1: "T"}, "logits": {1: "T"}}
    outs = ["logits"]
    args = (ids,)
    if past is not None:
        for i in range(len(past) // 2):
            for kind in ("key", "value"):
                names.append("past_%s.%d" % (kind, i))
                outs.append("present_%s.%d" % (kind, i))
                dyn[names[-1]] = {2: "P"}
                dyn[outs[-1]] = {2: "PT"}
        args = (ids, *past)
    torch.onnx.export(model, args, path, input_names=names, output_names=outs,
                      dynamic_axes=dyn, opset_version=17, do_constant_folding=True)


def main():
    src, out, only = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    cfg, w = read_llama2c(src)
    ids = torch.tensor([[1, 403, 407, 261, 378, 410, 426, 271, 260, 283, 283,
                         345, 408, 260, 405, 293, 290, 270, 287, 266, 359]])
    ids = ids % cfg["vocab"]
    np.save(os.path.join(out, "ids.npy"), ids[0].numpy().astype(np.int64))
    variants = {
        "meta": dict(style="meta", eps=1e-5, theta=10000.0),
        "hf": dict(style="hf", eps=1e-5, theta=10000.0),
        "hf-kv": dict(style="hf", eps=1e-5, theta=10000.0),
        "qwen2": dict(style="hf", eps=1e-6, theta=1e6, bias=True, tied=True),
    }
    for bad in ("gelu", "layernorm", "scale", "rope"):
        variants["bad-" + bad] = dict(style="hf", eps=1e-5, theta=10000.0, bad=bad)
    with torch.no_grad():
        for name, v in variants.items():
            if only and name not in only:
                continue
            c = dict(cfg, eps=v["eps"], theta=v["theta"], bad=v.get("bad"))
            model = LM(c, w, v["style"], v.get("bias", False), v.get("tied", False)).eval()
            path = os.path.join(out, name + ".onnx")
            if name == "hf-kv":
                t0 = ids.shape[1] - 8
                empty = [torch.zeros(1, cfg["kv"], 0, cfg["hd"])] * (2 * cfg["layers"])
                first = model(ids[:, :t0], *empty)
                past = list(first[1:])
                logits = model(ids[:, t0:], *past)[0]
                export(model, path, ids[:, t0:], past)
            else:
                logits = model(ids)
                export(model, path, ids)
            np.save(os.path.join(out, name + ".logits.npy"), logits[0].numpy())
    if only:
        return
    import onnx
    m = onnx.load(os.path.join(out, "meta.onnx"))
    onnx.save_model(m, os.path.join(out, "external.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin",
                    size_threshold=0)
    np.save(os.path.join(out, "external.logits.npy"),
            np.load(os.path.join(out, "meta.logits.npy")))


if __name__ == "__main__":
    main()
