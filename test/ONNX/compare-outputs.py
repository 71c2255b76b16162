#!/usr/bin/python3
"""Compares two ort-run.js results output by output: the relative RMS error
of B against A ( |B - A| / |A| ), the largest absolute difference and, with
--argmax, how often the last axis' argmax agrees. Exits 1 when the relative
error passes MAX_REL or the agreement falls below --argmax MIN.

usage: compare-outputs.py A B MAX_REL [--argmax MIN] [--min-rel MIN_REL]"""
import json
import sys

import numpy as np

a, b, bound = sys.argv[1], sys.argv[2], float(sys.argv[3])
argmax = float(sys.argv[sys.argv.index("--argmax") + 1]) if "--argmax" in sys.argv else None
floor = float(sys.argv[sys.argv.index("--min-rel") + 1]) if "--min-rel" in sys.argv else 0.0
ok = True
for i, out in enumerate(json.load(open(a + ".json"))):
    x = np.fromfile("%s.%d.f32" % (a, i), np.float32).reshape(out["dims"])
    y = np.fromfile("%s.%d.f32" % (b, i), np.float32).reshape(out["dims"])
    rel = float(np.linalg.norm(y - x) / max(np.linalg.norm(x), 1e-30))
    line = "%s %s: relative error %.3e, max |difference| %.3e" % (
        out["name"], "x".join(map(str, out["dims"])), rel, float(np.abs(y - x).max()))
    ok &= floor <= rel <= bound
    if argmax is not None:
        agree = float(np.mean(x.argmax(-1) == y.argmax(-1)))
        line += ", argmax agreement %.4f" % agree
        ok &= agree >= argmax
    print(line)
print("within bounds" if ok else "OUT OF BOUNDS (relative error in [%g, %g]%s)" % (
    floor, bound, ", argmax >= %g" % argmax if argmax is not None else ""))
sys.exit(0 if ok else 1)
