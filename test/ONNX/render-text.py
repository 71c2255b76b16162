#!/usr/bin/python3
"""Real inputs for a text-recognition network (PaddleOCR's PP-OCRv4 rec):
lines of printed text rendered by matplotlib (DejaVu Sans), as PaddleOCR
feeds them: RGB, height 48, width 320, (x / 255 - 0.5) / 0.5, NCHW float32.

usage: render-text.py OUT_PREFIX   (writes OUT_PREFIX.<n>.f32, one a line)"""
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

LINES = ["quantization compiler", "Once upon a time", "MLIR 22 and ONNX",
         "bits per weight 4.5", "Hello, world!"]
prefix = sys.argv[1]
for n, text in enumerate(LINES):
    fig = plt.figure(figsize=(3.2, 0.48), dpi=100)
    fig.text(0.02, 0.5, text, fontsize=17, va="center", family="DejaVu Sans")
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].astype(np.float32)
    plt.close(fig)
    x = ((rgb / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    assert x.shape == (1, 3, 48, 320), x.shape
    np.ascontiguousarray(x, np.float32).tofile("%s.%d.f32" % (prefix, n))
print(len(LINES))
