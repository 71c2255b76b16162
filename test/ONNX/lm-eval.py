#!/usr/bin/python3
"""A language model exported by quant-compile --emit=onnx, run by ONNX
Runtime (ort-run.js) on llama-perplexity's windows of TEXT, beside qc's
float reference on the archive it came from (the qc package).

usage: lm-eval.py MODEL.onnx ARCHIVE TEXT CTX WORKDIR [BASELINE.onnx]

Prints the perplexity from ONNX Runtime's logits and from qc's (the second
half of each window scored, the first token BOS), the largest relative
logit difference between the two, and with BASELINE the mean KL divergence
of MODEL's next-token distributions from BASELINE's (both in ONNX Runtime).
"""
import os
import subprocess
import sys

import numpy as np

import qc

model, archive, text, ctx, work = sys.argv[1:6]
baseline = sys.argv[6] if len(sys.argv) > 6 else None
ctx = int(ctx)
here = os.path.dirname(os.path.abspath(__file__))
ref = qc.load(archive)
ids = ref.tokenize(open(text, encoding="utf-8").read())
windows = np.array([[ids[0]] + ids[w * ctx + 1:(w + 1) * ctx]
                    for w in range(len(ids) // ctx)], np.int64)
ids_file = os.path.join(work, "windows.i64")
windows.tofile(ids_file)


def ort(onnx, tag):
    out = os.path.join(work, tag)
    subprocess.run(["node", os.path.join(here, "ort-run.js"), onnx, out,
                    "input_ids:1x%d:%s:int64:%d" % (ctx, ids_file, len(windows))],
                   check=True)
    vocab = ref.config["vocab"]
    return np.fromfile(out + ".0.f32", np.float32).reshape(len(windows), ctx, vocab)


def log_softmax(x):
    x = x.astype(np.float64)
    top = x.max(-1, keepdims=True)
    return x - top - np.log(np.exp(x - top).sum(-1, keepdims=True))


def perplexity(logits):
    lp = log_softmax(logits)
    first = ctx // 2
    nll = [-lp[w, t, windows[w, t + 1]] for w in range(len(windows))
           for t in range(first, ctx - 1)]
    return float(np.exp(np.mean(nll)))


ours = ort(model, "model")
theirs = np.stack([ref.logits(w.tolist()) for w in windows])
rel = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
print("windows %d x %d" % (len(windows), ctx))
print("ONNX Runtime PPL = %.4f" % perplexity(ours))
print("qc reference PPL = %.4f" % perplexity(theirs))
print("max |logit difference| / max |logit| = %.3e" % rel)
if baseline:
    p = log_softmax(ort(baseline, "baseline"))[:, ctx // 2:ctx - 1]
    q = log_softmax(ours)[:, ctx // 2:ctx - 1]
    print("KLD vs baseline = %.6f" % float((np.exp(p) * (p - q)).sum(-1).mean()))
