#!/usr/bin/python3
"""4-bit ONNX files for ONNX Runtime: qc's GPTQ and imatrix beside RTN in
the same MatMulNBits format (uniform<4,32,sym,f16> = block 32, symmetric,
ONNX Runtime's RTN layout; token_embd Q8_0), exported by quant-compile
--emit=onnx and all run by ONNX Runtime, against the float export.
Calibration: ../shared's TinyStories excerpt; evaluation: independent
text (the first 24,000 characters of tinystories-eval.txt), ctx 256.

usage: QC_ONNXRUNTIME=node_modules bench/onnx/quality.py BUILD_DIR
Writes bench/results/onnx-quality.md."""
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
build = sys.argv[1]
shared = os.path.join(root, "..", "shared")
env = dict(os.environ, PYTHONPATH=os.path.join(build, "python"),
           NODE_PATH=os.environ["QC_ONNXRUNTIME"])
bin_ = os.path.join(build, "bin")
work = tempfile.mkdtemp(prefix="qc-onnx-")
calib = os.path.join(shared, "data", "tinystories-valid-excerpt.txt")
evaluation = os.path.join(work, "eval.txt")
open(evaluation, "w").write(open(os.path.join(shared, "data", "tinystories-eval.txt")).read()[:24000])
models = [("stories260K", os.path.join(shared, "models", "stories260K", "stories260K.bin"),
           os.path.join(shared, "models", "stories260K", "tok512.bin")),
          ("BabyLlama-105", os.path.join(shared, "models", "babyllama-tok105", "tok105_model5000.bin"),
           os.path.join(shared, "models", "babyllama-tok105", "tok105.bin"))]


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


lines = ["# 4-bit ONNX for ONNX Runtime: qc's methods beside RTN", "",
         "All files run by ONNX Runtime 1.30 (onnxruntime-node, CPU). Weights "
         "uniform<4,32,sym,f16> in MatMulNBits (bits 4, block 32, zero point 8), "
         "token_embd Q8_0; error = PPL/PPL(float) - 1 on independent text "
         "(tinystories-eval.txt, first 24,000 characters), ctx 256; calibration "
         "on tinystories-valid-excerpt.txt. \"qc PPL\" is qc's float reference on "
         "the same weights.", "",
         "| model | method | ONNX Runtime PPL | qc PPL | error | KLD vs float | error / RTN's |",
         "|---|---|---|---|---|---|---|"]
for name, binary, tok in models:
    d = os.path.join(work, name)
    os.makedirs(d)
    run(os.path.join(bin_, "quant-import"), binary, "--tokenizer", tok, "-o", d + "/m.mlir")
    run(os.path.join(bin_, "quant-compile"), d + "/m.mlir", "--emit=onnx", "-o", d + "/f.onnx")
    out = run("/usr/bin/python3", os.path.join(root, "test", "ONNX", "lm-eval.py"),
              d + "/f.onnx", d + "/m.safetensors", evaluation, "256", d)
    base = float(re.search(r"ONNX Runtime PPL = ([0-9.]+)", out).group(1))
    lines.append("| %s | float | %.4f | %s | | | |" % (
        name, base, re.search(r"qc reference PPL = ([0-9.]+)", out).group(1)))
    open(d + "/u4.json", "w").write('{"default": "uniform<4,32,sym,f16>", "token_embd": "Q8_0"}')
    rtn_err = None
    for method in ("rtn", "imatrix", "gptq"):
        opts = "recipe=%s/u4.json method=%s" % (d, method)
        if method != "rtn":
            opts += " calib=%s ctx=256" % calib
        run(os.path.join(bin_, "quant-opt"), d + "/m.mlir",
            "--qc-quantize-pipeline=" + opts, "-o", "%s/%s.mlir" % (d, method))
        run(os.path.join(bin_, "quant-compile"), "%s/%s.mlir" % (d, method),
            "--emit=onnx", "-o", "%s/%s.onnx" % (d, method))
        out = run("/usr/bin/python3", os.path.join(root, "test", "ONNX", "lm-eval.py"),
                  "%s/%s.onnx" % (d, method), "%s/%s.safetensors" % (d, method),
                  evaluation, "256", d, d + "/f.onnx")
        ppl = float(re.search(r"ONNX Runtime PPL = ([0-9.]+)", out).group(1))
        err = ppl / base - 1
        rtn_err = rtn_err or err
        lines.append("| %s | %s | %.4f | %s | %.4f | %s | %.2f |" % (
            name, method, ppl, re.search(r"qc reference PPL = ([0-9.]+)", out).group(1), err,
            re.search(r"KLD vs baseline = ([0-9.]+)", out).group(1), err / rtn_err))
        print(lines[-1], flush=True)
os.makedirs(os.path.join(root, "bench", "results"), exist_ok=True)
open(os.path.join(root, "bench", "results", "onnx-quality.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
