#!/usr/bin/python3
"""Checks that the mean KLD one `quant-run kld` output reports is at most
MAX_RATIO times another's.
usage: compare-kld.py A B MAX_RATIO"""
import re
import sys


def kld(path):
    m = re.search(r"mean KLD = ([0-9.]+)", open(path).read())
    if not m:
        sys.exit("%s: no mean KLD found" % path)
    return float(m.group(1))


a, b, limit = kld(sys.argv[1]), kld(sys.argv[2]), float(sys.argv[3])
ratio = a / max(b, 1e-12)
print("%s %.6f / %s %.6f = %.3f (max %.2f)" % (sys.argv[1], a, sys.argv[2], b, ratio, limit))
sys.exit(0 if ratio <= limit else 1)
