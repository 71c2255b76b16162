#!/usr/bin/python3
"""Checks lm-eval.py's output: ONNX Runtime's perplexity within REL of qc's
and the logits within LOGITS (relative to the largest).

usage: same-ppl.py LM_EVAL_OUTPUT REL LOGITS"""
import re
import sys

text = open(sys.argv[1]).read()
ort = float(re.search(r"ONNX Runtime PPL = ([0-9.]+)", text).group(1))
ref = float(re.search(r"qc reference PPL = ([0-9.]+)", text).group(1))
logits = float(re.search(r"logit difference\| / max \|logit\| = ([0-9.e+-]+)", text).group(1))
ok = abs(ort / ref - 1) <= float(sys.argv[2]) and logits <= float(sys.argv[3])
print("PPL ONNX Runtime %.4f, qc %.4f, logits %.2e: %s" % (ort, ref, logits, "ok" if ok else "OUT OF BOUNDS"))
sys.exit(0 if ok else 1)
