#!/usr/bin/python3
"""Compares the perplexities two `quant-run perplexity` (or llama-perplexity)
outputs report.
usage: compare-ppl.py A B MAX_RELATIVE_DIFFERENCE"""
import re
import sys


def ppl(path):
    m = re.search(r"PPL(?: over \d+ chunks for n_ctx=\d+)? = ([0-9.]+)", open(path).read())
    if not m:
        sys.exit("%s: no perplexity found" % path)
    return float(m.group(1))


a, b, tol = ppl(sys.argv[1]), ppl(sys.argv[2]), float(sys.argv[3])
rel = abs(a - b) / a
print("%s %.4f vs %s %.4f: relative difference %.2e (max %.0e)" % (sys.argv[1], a, sys.argv[2], b, rel, tol))
sys.exit(0 if rel <= tol else 1)
