"""Codecs through Python against the C++ unit vectors
(test/unit/data/ggml-vectors.bin, made beside llama.cpp's ggml): the same
packed bytes from the same inputs, the same floats back."""
import os
import struct

import numpy as np
import pytest

import qc
from conftest import SOURCE

VECTORS = os.path.join(SOURCE, "test", "unit", "data", "ggml-vectors.bin")
GGML_NAMES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1",
              8: "Q8_0", 10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K",
              14: "Q6_K", 20: "IQ4_NL", 23: "IQ4_XS", 30: "BF16", 39: "MXFP4"}


def load_vectors():
    data = open(VECTORS, "rb").read()
    assert data[:4] == b"QCTV"
    rows, cols, count = struct.unpack_from("<3I", data, 4)
    at = 16
    n = rows * cols
    x = np.frombuffer(data, np.float32, n, at).reshape(rows, cols)
    at += 4 * n
    importance = np.frombuffer(data, np.float32, cols, at)
    at += 4 * cols
    entries = []
    for _ in range(count):
        name = data[at:at + 16].rstrip(b"\0").decode()
        gtype, with_importance, size = struct.unpack_from("<3I", data, at + 16)
        at += 28
        packed = data[at:at + size]
        at += size
        values = np.frombuffer(data, np.float32, n, at).reshape(rows, cols)
        at += 4 * n
        entries.append((name, gtype, bool(with_importance), packed, values))
    return x, importance, entries


X, IMPORTANCE, ENTRIES = load_vectors()
# GGMLVectors.QuantizationWithImportanceMatchesLlamaQuantize's list.
IMPORTANCE_PORTED = {"Q4_0", "Q5_0", "Q8_0", "Q6_K", "IQ4_NL", "IQ4_XS"}


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: f"{e[0]}-imp{int(e[2])}")
def test_codec_matches_the_unit_vectors(entry):
    name, gtype, with_importance, packed, values = entry
    c = qc.codec(GGML_NAMES.get(gtype, name))
    assert c.packed_bytes(*X.shape) == len(packed)
    assert np.array_equal(c.dequantize(packed, X.shape), values)
    # Quantization is byte for byte where the C++ test holds it so: without
    # importance for every type, with importance for the paths qc ported.
    if not with_importance or GGML_NAMES.get(gtype) in IMPORTANCE_PORTED:
        ours = c.quantize(X, IMPORTANCE if with_importance else None)
        assert ours == packed


def test_every_registered_family_lists_and_round_trips():
    names = [n for n, _ in qc.formats()]
    for expected in ("Q4_0", "Q4_K", "Q6_K", "IQ4_XS", "uniform", "ternary", "nf4"):
        assert expected in names
    rng = np.random.default_rng(1)
    w = rng.standard_normal((8, 256)).astype(np.float32)
    errors = {}
    for name in ("Q8_0", "Q6_K", "Q4_K", "uniform<4,32,sym,f16>", "nf4", "Q2_K"):
        c = qc.codec(name)
        back = c.dequantize(c.quantize(w), w.shape)
        errors[name] = float(np.mean((back - w) ** 2) / np.mean(w ** 2))
    assert errors["Q8_0"] < 1e-4 < errors["Q4_K"] < errors["Q2_K"] < 0.2
    assert errors["Q6_K"] < errors["Q4_K"]
