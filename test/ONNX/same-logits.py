#!/usr/bin/python3
"""Compares the logits qc computes for a module with reference logits:

  same-logits.py MODULE IDS.npy REFERENCE TOLERANCE

REFERENCE is a .npy of logits [n, vocab] for the last n of the ids (torch's,
after a past of the first ones), or a second module run on the same ids.
Passes when the largest difference is at most TOLERANCE times the largest
reference logit, and the top tokens agree."""
import sys

import numpy as np
import qc

module, ids, reference, tolerance = sys.argv[1:5]
ids = [int(i) for i in np.load(ids)]
got = qc.load(module).logits(ids)
if reference.endswith(".npy"):
    want = np.load(reference)
else:
    want = qc.load(reference).logits(ids)
got = got[-len(want):]
diff = float(np.abs(got - want).max())
scale = float(np.abs(want).max())
top = float((got.argmax(-1) == want.argmax(-1)).mean())
print("max |difference| %.3g (%.3g of the largest logit %.3g), top-1 agreement %.3f over %d positions"
      % (diff, diff / scale, scale, top, len(want)))
sys.exit(0 if diff <= float(tolerance) * scale and top == 1.0 else 1)
