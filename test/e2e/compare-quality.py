#!/usr/bin/python3
"""Compares what two runs report.
usage: compare-quality.py ppl A B MAX_RELATIVE_DIFFERENCE
         perplexities of `quant-run perplexity` or llama-perplexity outputs
       compare-quality.py kld A B MAX_RATIO
         mean KLDs of `quant-run kld` outputs: KLD(A) <= MAX_RATIO * KLD(B)"""
import re
import sys

PATTERNS = {"ppl": r"PPL(?: over \d+ chunks for n_ctx=\d+)? = ([0-9.]+)",
            "kld": r"mean KLD = ([0-9.]+)"}


def figure(kind, path):
    m = re.search(PATTERNS[kind], open(path).read())
    if not m:
        sys.exit("%s: no %s found" % (path, kind))
    return float(m.group(1))


if len(sys.argv) != 5 or sys.argv[1] not in PATTERNS:
    sys.exit(__doc__)
kind, pa, pb, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
a, b = figure(kind, pa), figure(kind, pb)
if kind == "ppl":
    value = abs(a - b) / a
    print("%s %.4f vs %s %.4f: relative difference %.2e (max %.0e)" % (pa, a, pb, b, value, limit))
else:
    value = a / max(b, 1e-12)
    print("%s %.6f / %s %.6f = %.3f (max %.2f)" % (pa, a, pb, b, value, limit))
sys.exit(0 if value <= limit else 1)
