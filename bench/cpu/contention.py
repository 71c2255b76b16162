#!/usr/bin/python3
"""Generation speed when another process keeps one core busy.

Compiles a model (default: the bundled stories260K) with quant-compile and
measures `quant-run bench` on 1 and 2 threads, first on an idle machine,
then with a busy loop pinned to the last core. Rounds alternate between the
settings and the figures are medians. The line to read: on 2 threads with
one core busy, generation should be no slower than on 1 thread.

    bench/cpu/contention.py --qc build/bin [--model M.mlir] [--reps 5]
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def run(cmd):
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def tg(qc, so, weights, threads, n):
    out = run([f"{qc}/quant-run", "bench", "-m", weights, "--compiled", so, "-t",
               str(threads), "--pp", "16", "--tg", str(n), "-r", "1"])
    for line in out.splitlines():
        if line.startswith(f"tg{n}:"):
            return float(line.split()[1])
    raise RuntimeError("no tg figure in: " + out)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--qc", default=os.path.join(ROOT, "build", "bin"))
    p.add_argument("--model", help="a qc module or model file (default: stories260K)")
    p.add_argument("--work", default="/tmp/qc-bench-contention")
    p.add_argument("--tg", type=int, default=256)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    a = p.parse_args()
    cores = os.cpu_count() or 1
    if cores < 2:
        sys.exit("contention.py needs at least 2 cores")
    os.makedirs(a.work, exist_ok=True)
    model = a.model
    if not model:
        model = os.path.join(a.work, "stories260K.mlir")
        m = os.path.join(ROOT, "models", "stories260K")
        run([f"{a.qc}/quant-import", os.path.join(m, "stories260K.bin"), "--tokenizer",
             os.path.join(m, "tok512.bin"), "-o", model])
    so = os.path.join(a.work, "model.so")
    run([f"{a.qc}/quant-compile", model, "--emit=lib", "-o", so])
    weights = os.path.splitext(model)[0] + ".safetensors" if model.endswith(".mlir") else model

    settings = [(busy, t) for busy in (False, True) for t in (1, 2)]
    rounds = {s: [] for s in settings}
    for _ in range(a.reps):
        for busy, t in settings:
            hog = None
            if busy:
                hog = subprocess.Popen(["taskset", "-c", str(cores - 1), "sh", "-c",
                                        "while :; do :; done"])
            try:
                rounds[(busy, t)].append(tg(a.qc, so, weights, t, a.tg))
            finally:
                if hog:
                    hog.kill()
                    hog.wait()
    med = {s: statistics.median(v) for s, v in rounds.items()}
    lines = [
        "# Generation with one core busy: qc's thread pool",
        "",
        f"`quant-run bench` tg{a.tg} (tok/s), medians of {a.reps} alternating rounds, "
        f"model {os.path.basename(model)}; busy = a shell loop pinned to core {cores - 1} "
        f"of {cores}.",
        "",
        "| threads | idle | one core busy |",
        "|---|---|---|",
    ]
    for t in (1, 2):
        lines.append(f"| {t} | {med[(False, t)]:.1f} | {med[(True, t)]:.1f} |")
    ratio = med[(True, 2)] / med[(True, 1)]
    lines += ["", f"2 threads / 1 thread with one core busy: {ratio:.2f} "
              f"(idle: {med[(False, 2)] / med[(False, 1)]:.2f})", ""]
    text = "\n".join(lines)
    print(text)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "cpu-contention.md"), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
