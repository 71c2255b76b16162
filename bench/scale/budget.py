#!/usr/bin/python3
"""The bits-per-weight budget with and without measured KL.

qc-assign-formats solves a budget by Lagrangian bisection over each
tensor's (bytes, error) choices. The errors either come from the
importance-weighted layer-output error of each candidate on sampled rows
alone (what scales: no forward pass per candidate), or are mapped to output
KL through a sensitivity measured by running the model with each tensor
quantized (kl-text=, today's pipeline default). This script sets the two
side by side on the real models in ../shared at several budgets: GPTQ
quantization, calibration on the TinyStories excerpt, perplexity on the
independent tinystories-eval.txt; error = PPL(Q)/PPL(float) - 1.

usage: bench/scale/budget.py [QC_BIN_DIR]   (writes bench/results/budget.md)
   TARGETS="3.0 3.5 4.0 4.5 5.0"  MODELS="BabyLlama-105 stories260K" """
import os
import re
import subprocess
import sys
import tempfile
import time

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
qc = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build", "bin")
shared = os.environ.get("QC_SHARED", os.path.join(root, "..", "shared"))
CTX = 256
work = tempfile.mkdtemp(prefix="qc-budget-")
MODELS = [
    ("BabyLlama-105", "babyllama-tok105/tok105_model5000.bin", "babyllama-tok105/tok105.bin", True),
    ("stories260K", "stories260K/stories260K.bin", "stories260K/tok512.bin", False),
]
TARGETS = tuple(float(t) for t in os.environ.get("TARGETS", "3.0 3.5 4.0 4.5 5.0").split())
MODELS = [m for m in MODELS if m[0] in os.environ.get("MODELS", "BabyLlama-105 stories260K").split()]


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), p.stdout[-2000:]))
    return p.stdout


def ppl(model, text):
    out = run([os.path.join(qc, "quant-run"), "perplexity", "-m", model, "-f", text, "--ctx", str(CTX)])
    return float(re.search(r"PPL = ([0-9.]+)", out).group(1))


def bpw(model):
    out = run([os.path.join(qc, "quant-run"), "info", "-m", model])
    return float(re.search(r"bpw all: ([0-9.]+)", out).group(1))


def main():
    lines = ["# Budget assignment: sampled-row output error against measured KL", "",
             "GPTQ at each budget; calibration (imatrix, X^T X) on tinystories-valid-excerpt.txt, "
             "perplexity on the independent tinystories-eval.txt (ctx %d). "
             "Error = PPL(Q)/PPL(float) - 1; assign = seconds of qc-assign-formats." % CTX, "",
             "| model | target bpw | KL: bpw | KL: error | KL: assign s | output error: bpw | "
             "output error: error | output error: assign s | error ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, binary, tok, strip in MODELS:
        d = os.path.join(work, name)
        os.makedirs(d)
        cal, ev = os.path.join(d, "calib.txt"), os.path.join(d, "eval.txt")
        for src, dst in (("tinystories-valid-excerpt.txt", cal), ("tinystories-eval.txt", ev)):
            t = open(os.path.join(shared, "data", src)).read()
            open(dst, "w").write(t.replace("\n", " ") if strip else t)
        mlir = os.path.join(d, "m.mlir")
        run([os.path.join(qc, "quant-import"), os.path.join(shared, "models", binary),
             "--tokenizer", os.path.join(shared, "models", tok), "-o", mlir])
        base = ppl(os.path.join(d, "m.safetensors"), ev)
        calm = os.path.join(d, "cal.mlir")
        run([os.path.join(qc, "quant-opt"), mlir,
             "--qc-calibrate=calib=%s ctx=%d xtx=true" % (cal, CTX), "-o", calm])
        for target in TARGETS:
            row = []
            for tag, extra in (("kl", " kl-text=%s" % cal), ("out", "")):
                a = os.path.join(d, "%s-%g.a.mlir" % (tag, target))
                q = os.path.join(d, "%s-%g.q.mlir" % (tag, target))
                arch = os.path.join(d, "%s-%g.safetensors" % (tag, target))
                t0 = time.time()
                run([os.path.join(qc, "quant-opt"), calm,
                     "--qc-assign-formats=target-bpw=%g method=gptq print-table=false%s" % (target, extra),
                     "-o", a])
                seconds = time.time() - t0
                run([os.path.join(qc, "quant-opt"), a, "--qc-quantize=method=gptq out=%s" % arch, "-o", q])
                row.append((bpw(arch), ppl(arch, ev) / base - 1, seconds))
            (kb, ke, ks), (ob, oe, os_) = row
            lines.append("| %s | %.1f | %.3f | %.4f | %.1f | %.3f | %.4f | %.1f | %.2f |"
                         % (name, target, kb, ke, ks, ob, oe, os_, oe / ke if ke > 0 else float("nan")))
            print(lines[-1], flush=True)
    out = os.path.join(root, "bench", "results", "budget.md")
    open(out, "w").write("\n".join(lines) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
