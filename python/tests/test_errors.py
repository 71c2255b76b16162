"""Bad arguments raise clear exceptions; nothing crashes the interpreter."""
import numpy as np
import pytest

import qc
from conftest import MODEL


def test_missing_files(tmp_path):
    with pytest.raises(qc.Error, match="nonexistent.gguf"):
        qc.load(tmp_path / "nonexistent.gguf")
    with pytest.raises(qc.Error, match="cannot open calibration text"):
        qc.quantize(MODEL, tmp_path / "x.mlir", target_bpw=4,
                    calib=tmp_path / "missing.txt",
                    tokenizer=MODEL.replace("stories260K.bin", "tok512.bin"))
    assert not (tmp_path / "x.mlir").exists()
    with pytest.raises(qc.Error, match="^error: could not open input file .*missing.mlir"):
        qc.compile(tmp_path / "missing.mlir", tmp_path / "x.so")
    assert not (tmp_path / "x.so").exists()


def test_not_a_model(tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + bytes(20))
    with pytest.raises(qc.Error, match="junk.gguf"):
        qc.load(junk)
    lib = tmp_path / "fake.so"
    lib.write_bytes(b"\x7fELF not really")
    with pytest.raises(qc.Error, match="fake.so"):
        qc.load(lib)


def test_wrong_types(model):
    with pytest.raises(TypeError):
        qc.load(42)
    with pytest.raises(TypeError):
        model.logits("Once upon a time")
    with pytest.raises(TypeError):
        model.generate(b"bytes", 4)
    with pytest.raises(TypeError):
        model.generate("x", "4")
    with pytest.raises(TypeError):
        model.perplexity(12)
    with pytest.raises(TypeError):
        qc.codec(4)


def test_wrong_values_and_shapes(model, tmp_path):
    with pytest.raises(qc.Error, match="outside the vocabulary of 512"):
        model.logits([1, 512])
    with pytest.raises(qc.Error, match="no tokens"):
        model.logits([])
    with pytest.raises(qc.Error, match="exceed the context of 512"):
        model.generate("Once upon a time", 600)
    with pytest.raises(ValueError):
        model.perplexity("text", ctx=1)
    with pytest.raises(qc.Error, match="perplexity needs at least 128 tokens, the text has"):
        model.perplexity("short", ctx=64)
    with pytest.raises(ValueError, match="exactly one"):
        qc.quantize(model, tmp_path / "x.mlir")
    with pytest.raises(ValueError, match="method"):
        qc.quantize(model, tmp_path / "x.mlir", target_bpw=4, method="awq")
    with pytest.raises(ValueError, match="emit"):
        qc.compile("m.mlir", tmp_path / "x", emit="wasm")
    c = qc.codec("Q4_0")
    with pytest.raises(ValueError, match="2-D"):
        c.quantize(np.zeros(64, np.float32))
    with pytest.raises(ValueError, match="multiple"):
        c.quantize(np.zeros((2, 33), np.float32))
    with pytest.raises(ValueError, match="one value per column"):
        c.quantize(np.zeros((2, 64), np.float32), np.ones(3, np.float32))
    with pytest.raises(ValueError, match="bytes"):
        c.dequantize(b"\0" * 10, (2, 64))
    with pytest.raises(qc.Error, match="unknown format"):
        qc.codec("Q9_9")
