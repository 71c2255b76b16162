#!/usr/bin/python3
"""Quantization error against bits per weight, qc beside llama.cpp.

For each real model in ../shared (BabyLlama-105 the main one, stories260K
too), calibrating on the TinyStories excerpt and evaluating on independent
text (the first EVAL_CHARS characters of tinystories-eval.txt, whole
stories), measures PPL(Q)/PPL(float) - 1 for:
  qc:        RTN, importance-weighted (imatrix) and GPTQ uniform 2-5 bit;
             balanced ternary depth 1/2/3; budget-assigned mixes 2.5-5 bpw
  llama.cpp: Q4_0, Q3_K_S, Q3_K_M, Q4_K_M, IQ4_XS, without and with an
             imatrix from llama-imatrix on the same calibration text, all
             quantized from the tied GGUF quant-export-gguf writes
  qc -> llama.cpp: a budget restricted to ggml types at each llama.cpp size,
             on llama-imatrix's file (KL sensitivity on the calibration text),
             exported as GGUF and scored by llama-perplexity
bpw is counted the same way for both (all tensors; linear weights only).
Writes bench/results/quality-<model>.md and .png and checks the targets.

usage: bench/quality/run.py LLAMA_CPP_BIN_DIR [QC_BIN_DIR]"""
import json
import os
import re
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
llama = sys.argv[1]
qc = sys.argv[2] if len(sys.argv) > 2 else os.path.join(root, "build", "bin")
shared = os.environ.get("QC_SHARED", os.path.join(root, "..", "shared"))
threads = os.environ.get("THREADS", "2")
CTX = 256
EVAL_CHARS = int(os.environ.get("EVAL_CHARS", "24000"))
# ggml types a budget for llama.cpp may use (those whose blocks do not divide
# a row are skipped per tensor). Q4_1 / Q5_1 are left out: ik_llama.cpp
# multiplies them wrongly on rows of an odd number of blocks (BabyLlama's
# ffn_down, 352 = 11 x 32: llama-perplexity 9.0 on its own Q4_1 file).
GGML_CANDIDATES = "Q4_0;Q5_0;Q8_0;IQ4_NL;Q2_K;Q3_K;Q4_K;Q5_K;Q6_K"
work = tempfile.mkdtemp(prefix="qc-quality-")
# The chart comes from the qc package of the same build (<build>/python).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(qc)), "python"))
from qc import plot as qc_plot  # noqa: E402


def run(cmd, check=True):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(cmd), p.stdout[-2000:]))
    return p.stdout


def qc_ppl(model, text):
    out = run([os.path.join(qc, "quant-run"), "perplexity", "-m", model, "-f", text, "--ctx", str(CTX)])
    return float(re.search(r"PPL = ([0-9.]+)", out).group(1))


def llama_ppl(model, text):
    out = run([os.path.join(llama, "llama-perplexity"), "-m", model, "-f", text, "-c", str(CTX),
               "-t", threads], check=False)
    m = re.search(r"Final estimate: PPL over \d+ chunks for n_ctx=\d+ = ([0-9.]+)", out)
    return float(m.group(1)) if m else None


def bpw(model):
    out = run([os.path.join(qc, "quant-run"), "info", "-m", model])
    return (float(re.search(r"bpw all: ([0-9.]+)", out).group(1)),
            float(re.search(r"bpw linear: ([0-9.]+)", out).group(1)))


# ggml type id -> (weights per block, bytes per block), ik_llama.cpp's extra
# types included (Q6_0 = 133), for sizing files qc itself does not read.
GGML_SIZES = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
              10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
              20: (32, 18), 23: (256, 136), 30: (1, 2), 133: (32, 26)}


def gguf_bpw(path):
    """bpw (all, linear) from a GGUF's tensor infos."""
    import struct
    d = open(path, "rb").read()
    o = 8
    nt, nkv = struct.unpack_from("<QQ", d, o)
    o += 16

    def string():
        nonlocal o
        n, = struct.unpack_from("<Q", d, o)
        o += 8 + n
        return d[o - n:o].decode("utf-8", "replace")

    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def value(t):
        nonlocal o
        if t == 8:
            string()
        elif t == 9:
            et, n = struct.unpack_from("<IQ", d, o)
            o += 12
            for _ in range(n):
                value(et)
        else:
            o += sizes[t]
    for _ in range(nkv):
        string()
        t, = struct.unpack_from("<I", d, o)
        o += 4
        value(t)
    tot = [0, 0, 0, 0]
    for _ in range(nt):
        name = string()
        nd, = struct.unpack_from("<I", d, o)
        o += 4
        ne = struct.unpack_from("<%dQ" % nd, d, o)
        o += 8 * nd
        t, _ = struct.unpack_from("<IQ", d, o)
        o += 12
        n = 1
        for e in ne:
            n *= e
        bs, bb = GGML_SIZES[t]
        nbytes = n // bs * bb
        tot[0] += nbytes
        tot[1] += n
        if name.startswith("blk.") and (".attn_" in name or ".ffn_" in name) and "_norm" not in name:
            tot[2] += nbytes
            tot[3] += n
    return 8.0 * tot[0] / tot[1], 8.0 * tot[2] / tot[3]


def qc_opt(inp, out, passes):
    run([os.path.join(qc, "quant-opt"), inp, passes, "-o", out])


def bench(name, binary, tokenizer, strip_newlines):
    calib = open(os.path.join(shared, "data", "tinystories-valid-excerpt.txt")).read()
    evalt = open(os.path.join(shared, "data", "tinystories-eval.txt")).read()
    evalt = evalt[:evalt.index("\n", min(EVAL_CHARS, len(evalt) - 1)) + 1]
    if strip_newlines:  # the vocabulary has no newline (llama.cpp aborts on it)
        calib, evalt = calib.replace("\n", " "), evalt.replace("\n", " ")
    d = os.path.join(work, name)
    os.makedirs(d)
    cal_txt, eval_txt = os.path.join(d, "calib.txt"), os.path.join(d, "eval.txt")
    open(cal_txt, "w").write(calib)
    open(eval_txt, "w").write(evalt)
    rows = []

    # --- qc
    mlir = os.path.join(d, "m.mlir")
    run([os.path.join(qc, "quant-import"), binary, "--tokenizer", tokenizer, "-o", mlir])
    base = qc_ppl(os.path.join(d, "m.safetensors"), eval_txt)
    cal = os.path.join(d, "cal.mlir")
    qc_opt(mlir, cal, "--qc-calibrate=calib=%s ctx=%d xtx=true" % (cal_txt, CTX))

    def qc_config(label, family, assign, method):
        tag = re.sub(r"[^a-z0-9]+", "-", label.lower())
        a, q = os.path.join(d, tag + ".a.mlir"), os.path.join(d, tag + ".q.mlir")
        arch = os.path.join(d, tag + ".safetensors")
        qc_opt(cal, a, assign)
        qc_opt(a, q, "--qc-quantize=method=%s out=%s" % (method, arch))
        b_all, b_lin = bpw(arch)
        rows.append(dict(system="qc", family=family, label=label, bpw=b_all, bpw_lin=b_lin,
                         ppl=qc_ppl(arch, eval_txt)))

    def recipe(tag, default, keep="F16"):
        path = os.path.join(d, "recipe-%s.json" % tag)
        json.dump({"default": default, "token_embd": keep, "output": keep}, open(path, "w"))
        return "--qc-assign-formats=recipe=%s print-table=false" % path

    for bits in (2, 3, 4, 5):
        fmt = "uniform<%d,32,sym,f16>" % bits if bits > 2 else "uniform<2,32,asym,f16>"
        for method, fam in (("rtn", "qc RTN"), ("imatrix", "qc imatrix"), ("gptq", "qc GPTQ")):
            qc_config("%s %d-bit" % (fam, bits), fam, recipe("u%d" % bits, fmt, "Q8_0"), method)
    for depth in (1, 2, 3):
        qc_config("qc ternary d=%d" % depth, "qc ternary",
                  recipe("t%d" % depth, "ternary<%d,16,27>" % depth), "gptq")
    return base, cal_txt, eval_txt, d, rows, qc_config


def bench_llama(name, cal_txt, eval_txt, d, rows):
    # --- llama.cpp on the same model, text and threads, from qc's tied GGUF
    gguf = os.path.join(d, "f32.gguf")
    run([os.path.join(qc, "quant-export-gguf"), os.path.join(d, "m.mlir"), "-o", gguf])
    imat = os.path.join(d, "llama.imatrix")
    run([os.path.join(llama, "llama-imatrix"), "-m", gguf, "-f", cal_txt, "-c", str(CTX), "-t", threads,
         "-o", imat], check=False)
    base_llama = llama_ppl(gguf, eval_txt)
    for t in ("Q4_0", "Q3_K_S", "Q3_K_M", "Q4_K_M", "IQ4_XS"):
        for with_imat in (False, True):
            if with_imat and not os.path.exists(imat):
                continue
            out = os.path.join(d, "llama-%s%s.gguf" % (t, "-imat" if with_imat else ""))
            cmd = [os.path.join(llama, "llama-quantize")]
            if with_imat:
                cmd += ["--imatrix", imat]
            p = subprocess.run(cmd + [gguf, out, t], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if p.returncode != 0 or not os.path.exists(out):
                rows.append(dict(system="llama.cpp", family="llama.cpp", bpw=None, bpw_lin=None,
                                 label=t + (" +imatrix" if with_imat else ""), ppl=None,
                                 note="llama-quantize failed"))
                continue
            ppl = llama_ppl(out, eval_txt)
            b_all, b_lin = gguf_bpw(out)
            rows.append(dict(system="llama.cpp", family="llama.cpp" + (" imatrix" if with_imat else ""),
                             label=t + (" +imatrix" if with_imat else ""), bpw=b_all, bpw_lin=b_lin,
                             ppl=ppl, note=None if ppl else "llama-perplexity failed"))
    return base_llama, imat


def ggml_budget(d, cal_txt, eval_txt, imat, size, rows):
    """A budget of ggml types on llama-imatrix's file, no larger than a
    llama.cpp file of `size` bpw (all tensors), scored by llama.cpp."""
    tag = "ggml-%.3f" % size
    q, arch = os.path.join(d, tag + ".mlir"), os.path.join(d, tag + ".safetensors")
    gguf = os.path.join(d, tag + ".gguf")
    target = size
    for _ in range(3):  # the budget counts matrices; norms and the like come on top
        qc_opt(os.path.join(d, "m.mlir"), q,
               "--qc-quantize-pipeline=target-bpw=%.4f candidates=%s method=imatrix imatrix=%s "
               "calib=%s ctx=%d out=%s" % (target, GGML_CANDIDATES, imat, cal_txt, CTX, arch))
        run([os.path.join(qc, "quant-export-gguf"), q, "-o", gguf])
        b_all, b_lin = gguf_bpw(gguf)
        if b_all <= size + 1e-4:
            break
        target -= b_all - size
    ppl = llama_ppl(gguf, eval_txt)
    rows.append(dict(system="qc -> llama.cpp", family="qc ggml budget (llama.cpp runs it)",
                     label="qc ggml-only budget %.3f +imatrix" % target, bpw=b_all, bpw_lin=b_lin,
                     ppl=ppl, qc_ppl=qc_ppl(arch, eval_txt), note=None if ppl else "llama-perplexity failed"))


def bench_all(name, binary, tokenizer, strip):
    base, cal_txt, eval_txt, d, rows, qc_config = bench(name, binary, tokenizer, strip)
    base_llama, imat = bench_llama(name, cal_txt, eval_txt, d, rows)
    if os.path.exists(imat):
        for target in sorted({round(r["bpw"] - 0.0005, 3) for r in rows
                              if r["system"] == "llama.cpp" and r["bpw"] and "Q4_K_M" in r["label"]}):
            ggml_budget(d, cal_txt, eval_txt, imat, target, rows)
    # Budget mixes at round sizes and at every size llama.cpp reached.
    sizes = {2.5, 3.0, 3.5, 4.0, 4.5, 5.0}
    sizes |= {round(r["bpw"] - 0.0005, 3) for r in rows if r["system"] == "llama.cpp" and r["bpw"]}
    for target in sorted(sizes):
        qc_config("qc budget %.3f" % target, "qc budget",
                  "--qc-assign-formats=target-bpw=%g method=gptq kl-text=%s print-table=false"
                  % (target, cal_txt), "gptq")
    return base, base_llama, rows


def report(name, base, base_llama, rows):
    for r in rows:
        ref = base if r["system"] == "qc" else base_llama
        r["err"] = r["ppl"] / ref - 1 if r.get("ppl") and ref else None
    lines = ["# Quantization error against bits per weight: %s" % name, "",
             "Error = PPL(Q)/PPL(float) - 1 on independent text (the first %d characters of "
             "tinystories-eval.txt), ctx %d; calibration (imatrix, X^T X, llama-imatrix) on "
             "tinystories-valid-excerpt.txt. llama.cpp quantizes the tied F32 GGUF quant-export-gguf "
             "writes. Float PPL: qc %.4f, llama.cpp %s. bpw over all tensors and over linear weights "
             "only, counted the same way for both (tensor bytes / weights). \"qc ggml-only budget\" "
             "rows: qc's budget over ggml types on llama-imatrix's file, exported as GGUF and scored "
             "by llama-perplexity (qc's own perplexity of the same weights in brackets)."
             % (EVAL_CHARS, CTX, base, "%.4f" % base_llama if base_llama else "n/a"),
             "", "| system | configuration | bpw (all) | bpw (linear) | PPL | error |", "|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["system"], r["bpw"] or 99)):
        f = lambda v, fmt: fmt % v if v is not None else "n/a"
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            r["system"], r["label"], f(r["bpw"], "%.3f"), f(r["bpw_lin"], "%.3f"),
            f(r.get("ppl"), "%.4f") + (" (qc %.4f)" % r["qc_ppl"] if r.get("qc_ppl") else ""),
            f(r.get("err"), "%.4f") + (" (%s)" % r["note"] if r.get("note") else "")))
    # Targets.
    qcr = [r for r in rows if r["system"] == "qc" and r["err"] is not None]
    ll = [r for r in rows if r["system"] == "llama.cpp" and r["err"] is not None and r["bpw"]]
    lines += ["", "## Targets", ""]
    rtn3 = next((r for r in qcr if r["label"] == "qc RTN 3-bit"), None)
    imp3 = next((r for r in qcr if r["label"] == "qc imatrix 3-bit"), None)
    if rtn3 and imp3:
        lines.append("- importance-weighted 3-bit error / RTN 3-bit error = %.3f (target <= 0.6): %s" % (
            imp3["err"] / rtn3["err"], "met" if imp3["err"] <= 0.6 * rtn3["err"] else "NOT met"))
    for r in sorted(ll, key=lambda r: r["bpw"]):
        best_ll = min(x["err"] for x in ll if x["bpw"] <= r["bpw"] + 1e-9)
        fit = [x for x in qcr if x["bpw"] <= r["bpw"] + 1e-9]
        if not fit:
            lines.append("- at %.3f bpw (%s): qc has no configuration this small" % (r["bpw"], r["label"]))
            continue
        best = min(fit, key=lambda x: x["err"])
        lines.append("- at %.3f bpw (%s): llama.cpp best %.4f, qc best %.4f (%s, %.3f bpw): ratio %.2f "
                     "(target <= 0.5): %s" % (r["bpw"], r["label"], best_ll, best["err"], best["label"],
                                               best["bpw"], best["err"] / best_ll if best_ll > 0 else 0,
                                               "met" if best["err"] <= 0.5 * best_ll else "NOT met"))
    for g in (r for r in rows if r["system"] == "qc -> llama.cpp" and r["err"] is not None):
        mix = next((x for x in ll if x["label"] == "Q4_K_M +imatrix"), None)
        if mix:
            lines.append("- qc's ggml-only budget in llama.cpp (%.3f bpw) error %.4f vs llama-quantize "
                         "Q4_K_M +imatrix (%.3f bpw) %.4f: ratio %.2f; llama-perplexity vs qc on the "
                         "same file: %+.3f%%" % (g["bpw"], g["err"], mix["bpw"], mix["err"],
                                                  g["err"] / mix["err"] if mix["err"] > 0 else 0,
                                                  100 * (g["ppl"] / g["qc_ppl"] - 1)))
    t2 = next((r for r in qcr if r["label"] == "qc ternary d=2"), None)
    if t2:
        near = [x for x in ll if x["bpw"] >= t2["bpw"] - 1e-9]
        if near:
            n = min(near, key=lambda x: x["bpw"])
            lines.append("- ternary d=2 (%.3f bpw) error %.4f vs llama.cpp %s (%.3f bpw) %.4f: %s" % (
                t2["bpw"], t2["err"], n["label"], n["bpw"], n["err"], "met" if t2["err"] < n["err"] else "NOT met"))
    out = os.path.join(root, "bench", "results", "quality-%s" % name)
    open(out + ".md", "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))
    series = {}
    for r in rows:
        if r.get("err") is not None and r["bpw"]:
            series.setdefault(r["family"], []).append((r["bpw"], r["err"]))
    try:
        qc_plot.error_vs_bpw(series, out + ".png", xlabel="bits per weight (all tensors)",
                             title="%s: quantization error vs size" % name)
    except ImportError:
        print("(no matplotlib: apt-get install python3-matplotlib for the plot)")


models = [("BabyLlama-105", os.path.join(shared, "models", "babyllama-tok105", "tok105_model5000.bin"),
           os.path.join(shared, "models", "babyllama-tok105", "tok105.bin"), True),
          ("stories260K", os.path.join(shared, "models", "stories260K", "stories260K.bin"),
           os.path.join(shared, "models", "stories260K", "tok512.bin"), False)]
only = os.environ.get("MODELS")
for name, b, t, strip in models:
    if only and name not in only.split(","):
        continue
    report(name, *bench_all(name, b, t, strip))
