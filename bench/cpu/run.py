#!/usr/bin/python3
"""CPU speed of qc's compiled models beside llama.cpp, in one run.

A GGUF with a real architecture's shapes and random weights (speed only; no
such real model can be had here) is quantized by llama-quantize --pure to
each format; llama-bench and `quant-run bench` (qc's generated kernels and
runtime, compiled by quant-compile from the same file) then measure prompt
processing (pp) and generation (tg) tokens/s with the same thread counts.
qc's ternary (depth 1, 2.0 bpw, made by qc-ternary-encode from the F16 file)
is set beside llama.cpp's 2.0-bpw ternary IQ2_BN. `mix:NAME` rows take
llama-quantize's default mix NAME (not --pure: Q4_K_M puts Q6_K in the
output head and half of attn_v / ffn_down), the files people download.
llama.cpp runs with and without its run-time repacking (-rtr 1); ratios
are against the faster of the two. Generation is also set against the
memory bandwidth measured here (bytes of the model x tok/s).

    bench/cpu/run.py --llama /tmp/ikl/build/bin --qc build/bin [--arch ...]
"""
import argparse
import csv
import io
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def llama_bench(llama, model, threads, pp, tg, reps, rtr=False):
    out = run([f"{llama}/llama-bench", "-m", model, "-t", str(threads), "-p", str(pp),
               "-n", str(tg), "-r", str(reps), "-o", "csv"] + (["-rtr", "1"] if rtr else []))
    rows = list(csv.DictReader(io.StringIO(out)))
    speed = {r["test"]: float(r["avg_ts"]) for r in rows}
    return speed[f"pp{pp}"], speed[f"tg{tg}"]


def qc_bench(qc, so, weights, threads, pp, tg, reps):
    out = run([f"{qc}/quant-run", "bench", "-m", weights, "--compiled", so, "-t",
               str(threads), "--pp", str(pp), "--tg", str(tg), "-r", str(reps)])
    get = lambda k: float(re.search(rf"^{k}\d+: ([0-9.]+) tok/s", out, re.M).group(1))
    return get("pp"), get("tg")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--llama", default="/tmp/ikl/build/bin")
    p.add_argument("--qc", default=os.path.join(ROOT, "build", "bin"))
    p.add_argument("--arch", default="llama-3.2-1b")
    p.add_argument("--work", default="/tmp/qc-bench-cpu")
    p.add_argument("--formats",
                   default="Q4_0,Q4_K,Q8_0,F16,ternary,mix:Q4_K_M,mix:Q5_K_M,mix:Q6_K")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--pp", type=int, default=128)
    p.add_argument("--tg", type=int, default=64)
    p.add_argument("--reps", type=int, default=5,
                   help="alternating rounds of both; figures are their medians")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    w = lambda name: os.path.join(a.work, name)

    f16 = w(f"{a.arch}-F16.gguf")
    if not os.path.exists(f16):
        run(["/usr/bin/python3", os.path.join(HERE, "make-synthetic-gguf.py"),
             "--arch", a.arch, "-o", f16])
    bw_exe = w("bandwidth")
    run(["c++", "-O2", "-march=native", "-pthread", "-o", bw_exe,
         os.path.join(HERE, "bandwidth.cpp")])
    threads = [int(t) for t in a.threads.split(",")]
    bandwidth = {t: float(run([bw_exe, str(t)])) for t in threads}

    rows = []
    for fmt in a.formats.split(","):
        if fmt == "ternary":
            ref_type, ref = "IQ2_BN", w(f"{a.arch}-IQ2_BN.gguf")
            # Every weight ternary, the embedding / output head included, as
            # llama-quantize --pure does for IQ2_BN.
            ours = w(f"{a.arch}-ternary-pure.safetensors")
            src = w("ternary-pure.mlir")
            if not os.path.exists(ours):
                run([f"{a.qc}/quant-import", f16, "-o", w("f16.mlir")])
                run([f"{a.qc}/quant-opt", w("f16.mlir"),
                     f"--qc-ternary-encode=depth=1 embeddings=true out={ours}", "-o", src])
        else:
            mix = fmt.startswith("mix:")
            ref_type = fmt[4:] if mix else fmt
            ref = f16 if fmt == "F16" else w(f"{a.arch}-{ref_type}{'' if mix else '-pure'}.gguf")
            ours, src = ref, ref
        if not os.path.exists(ref):
            pure = [] if fmt.startswith("mix:") else ["--pure"]
            run([f"{a.llama}/llama-quantize"] + pure + [f16, ref, ref_type, "2"])
        so = w(f"{a.arch}-{fmt.replace(':', '-')}.so")
        run([f"{a.qc}/quant-compile", src, "--emit=lib", "-o", so])
        size = os.path.getsize(ours)
        for t in threads:
            # Rounds alternate between the two (one repetition each), and
            # each figure is the median of its rounds: on a shared machine
            # speed drifts by tens of percent over minutes.
            rounds = [(llama_bench(a.llama, ref, t, a.pp, a.tg, 1),
                       llama_bench(a.llama, ref, t, a.pp, a.tg, 1, rtr=True),
                       qc_bench(a.qc, so, ours, t, a.pp, a.tg, 1)) for _ in range(a.reps)]
            med = lambda k, i: statistics.median(r[k][i] for r in rounds)
            lp, lt = max(med(0, 0), med(1, 0)), max(med(0, 1), med(1, 1))
            rp, rt = med(1, 0), med(1, 1)
            qp, qt = med(2, 0), med(2, 1)
            rows.append((fmt, ref_type, t, os.path.getsize(ref), size, lp, qp, lt, qt,
                         bandwidth[t], rp, rt))
            print(rows[-1], flush=True)

    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, f"cpu-{a.arch}.md")
    with open(path, "w") as f:
        f.write(f"# CPU speed: qc vs llama.cpp, synthetic {a.arch} shapes\n\n")
        f.write("Random weights with the architecture's shapes (speed only). "
                f"pp{a.pp} / tg{a.tg}, medians of {a.reps} rounds alternating "
                "between the programs, same GGUF file for "
                "both (qc's ternary: its own archive, every weight depth-1 ternary, "
                "against llama.cpp's IQ2_BN with --pure). Bandwidth: measured read GB/s "
                "with the same thread count; 'of bw' = model bytes x tg tok/s "
                "/ bandwidth. `mix:` rows are llama-quantize's default mixes. "
                "llama.cpp ran with and without -rtr 1; its column is the faster "
                "(the -rtr figure beside it), and the ratios are against it.\n\n")
        f.write("| format (llama.cpp) | threads | MiB (llama.cpp / qc) | pp llama.cpp (-rtr) | pp qc | "
                "ratio | tg llama.cpp (-rtr) | tg qc | ratio | tg of bw llama.cpp | tg of bw qc |\n")
        f.write("|---|---|---|---|---|---|---|---|---|---|---|\n")
        for fmt, rtype, t, rs, qs, lp, qp, lt, qt, bw, rp, rtt in rows:
            f.write(f"| {fmt} ({rtype}) | {t} | {rs / 2**20:.0f} / {qs / 2**20:.0f} | "
                    f"{lp:.1f} ({rp:.1f}) | {qp:.1f} | {qp / lp:.2f} | {lt:.1f} ({rtt:.1f}) | "
                    f"{qt:.1f} | {qt / lt:.2f} | {rs * lt / 1e9 / bw:.2f} | "
                    f"{qs * qt / 1e9 / bw:.2f} |\n")
        f.write("\nMeasured read bandwidth: " +
                ", ".join(f"{t} thread(s) {b:.1f} GB/s" for t, b in bandwidth.items()) + "\n")
    print(open(path).read())


if __name__ == "__main__":
    main()
