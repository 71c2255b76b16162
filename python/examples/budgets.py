#!/usr/bin/python3
"""Quantize the bundled model (stories260K) at three budgets, evaluate each
compiled model against the float one, and plot error against size.

usage: PYTHONPATH=<build>/python python/examples/budgets.py [OUT_DIR]

Calibration text: ../shared's TinyStories excerpt when present, else three
stories the float model writes. Evaluation text: ../shared's independent
tinystories-eval.txt (its first 24,000 characters) when present, else
stories from other prompts. Writes OUT_DIR/budgets.png (error against bits
per weight, beside plain RTN recipes) and OUT_DIR/bits-4.png (the 4-bit
assignment, tensor by tensor)."""
import os
import sys

import qc
import qc.plot

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(ROOT, "..", "shared", "data")
out = sys.argv[1] if len(sys.argv) > 1 else "budgets-out"
os.makedirs(out, exist_ok=True)

model_dir = os.path.join(ROOT, "models", "stories260K")
float_model = qc.load(os.path.join(model_dir, "stories260K.bin"),
                      tokenizer=os.path.join(model_dir, "tok512.bin"))


def text_file(name, shared_name, prompts, chars=None):
    path = os.path.join(out, name)
    shared = os.path.join(SHARED, shared_name)
    if os.path.isfile(shared):
        text = open(shared, encoding="utf-8").read()
    else:
        text = "".join(p + float_model.generate(p, 400) + "\n" for p in prompts)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:chars] if chars else text)
    return path


calib = text_file("calib.txt", "tinystories-valid-excerpt.txt",
                  ["Once upon a time", "Tom and his dog", "The little bird"])
evaluation = text_file("eval.txt", "tinystories-eval.txt",
                       ["One day, a girl", "The sun was", "A big bear"], 24000)
base = float_model.perplexity(open(evaluation).read(), ctx=128)["ppl"]
print(f"float: PPL {base:.4f} on {evaluation}")


def evaluate(label, module):
    lib = module.replace(".mlir", ".so")
    qc.compile(module, lib)
    q = qc.load(lib)
    text = open(evaluation).read()
    ppl = q.perplexity(text, ctx=128)["ppl"]
    kld = q.kld(float_model, text, ctx=128)["kld"]
    bpw = q.bits_per_weight()
    print(f"{label:>24}: {bpw:6.3f} bpw  PPL {ppl:8.4f}  error {ppl / base - 1:7.4f}"
          f"  KLD {kld:.5f}")
    return bpw, ppl / base - 1


series = {"qc budget (imatrix)": [], "qc RTN recipe": []}
for bpw in (3, 4, 5):
    module = os.path.join(out, f"budget-{bpw}.mlir")
    table = qc.quantize(float_model, module, target_bpw=bpw, calib=calib, ctx=128)
    if bpw == 4:
        qc.plot.bits_per_layer(table, os.path.join(out, "bits-4.png"),
                               title="stories260K at 4 bits per weight")
    series["qc budget (imatrix)"].append(evaluate(f"budget {bpw} bpw", module))
for fmt in ("Q4_0", "Q8_0"):
    recipe = os.path.join(out, f"{fmt}.json")
    with open(recipe, "w") as f:
        f.write('{"default": "%s"}' % fmt)
    module = os.path.join(out, f"rtn-{fmt}.mlir")
    qc.quantize(float_model, module, recipe=recipe, method="rtn")
    series["qc RTN recipe"].append(evaluate(f"RTN {fmt}", module))
print("wrote", qc.plot.error_vs_bpw(series, os.path.join(out, "budgets.png"),
                                     title="stories260K: error against size"))
