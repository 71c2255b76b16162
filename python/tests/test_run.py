"""Logits through Python against quant-run, for the float reference and for
a library quant-compile built: the perplexity computed here in numpy from
Model.logits must print as quant-run perplexity's (4 decimals)."""
import re

import numpy as np
import pytest

import qc
from conftest import MODEL, TOKENIZER, run, tool


def numpy_perplexity(m, text, ctx):
    """llama-perplexity's windows, from Python's logits alone."""
    ids = m.tokenize(text)
    nll, n = 0.0, 0
    bos = ids[0]
    for c in range(len(ids) // ctx):
        window = list(ids[c * ctx:(c + 1) * ctx])
        window[0] = bos
        logits = m.logits(window).astype(np.float64)
        for t in range(ctx // 2, ctx - 1):
            row = logits[t]
            top = row.max()
            nll += top + np.log(np.exp(row - top).sum()) - row[window[t + 1]]
            n += 1
    return float(np.exp(nll / n))


def quant_run_perplexity(*args):
    out = run(tool("quant-run"), "perplexity", *args)
    return float(re.search(r"PPL = ([0-9.]+)", out).group(1))


def test_reference_logits_give_quant_runs_perplexity(model, story):
    expected = quant_run_perplexity("-m", MODEL, "--tokenizer", TOKENIZER,
                                    "-f", str(story), "--ctx", "64")
    assert numpy_perplexity(model, story.read_text(), 64) == pytest.approx(
        expected, abs=1e-4)
    assert model.perplexity(story, ctx=64)["ppl"] == pytest.approx(expected, abs=1e-4)


def test_compiled_logits_give_quant_runs_perplexity(archive, story, tmp_path):
    lib = tmp_path / "m.so"
    qc.compile(archive, lib, kv_type="f32")
    compiled = qc.load(lib)
    assert compiled.compiled and compiled.weights.endswith("m.safetensors")
    expected = quant_run_perplexity("-m", str(archive), "--compiled", str(lib),
                                    "-f", str(story), "--ctx", "64")
    assert numpy_perplexity(compiled, story.read_text(), 64) == pytest.approx(
        expected, abs=1e-4)
    # Compiled float kernels against the float reference: the same model.
    reference = qc.load(archive)
    ids = reference.tokenize(story.read_text())[:64]
    a, b = reference.logits(ids), compiled.logits(ids)
    assert a.shape == b.shape == (64, 512) and a.dtype == np.float32
    assert np.abs(a - b).max() < 1e-3


def test_generation_and_tokens(model):
    assert model.generate("Once upon a time", 16) == \
        ", there was a little girl named Lily. She loved to play"
    a = model.generate("Once upon a time", 40, temperature=0.9, top_k=20, seed=7)
    assert a == model.generate("Once upon a time", 40, temperature=0.9,
                               top_k=20, seed=7)
    assert a != model.generate("Once upon a time", 40, temperature=0.9,
                               top_k=20, seed=8)
    ids = model.tokenize("Once upon a time")
    assert ids[0] == 1 and model.detokenize(ids[1:]).strip() == "Once upon a time"


def test_kld_of_a_model_against_itself_is_zero(model, story):
    same = qc.load(MODEL, tokenizer=TOKENIZER)
    r = model.kld(same, story, ctx=64)
    assert r["kld"] == pytest.approx(0.0, abs=1e-9) and r["top1"] == 1.0
    assert r["positions"] == r["chunks"] * 31


def test_kld_gives_quant_runs_figures(model, archive, story, tmp_path):
    lib = tmp_path / "m.so"
    qc.compile(archive, lib)  # f16 KV cache, int8-free float kernels
    out = run(tool("quant-run"), "kld", "-m", str(archive), "--compiled", str(lib),
              "--baseline", MODEL, "--tokenizer", TOKENIZER, "-f", str(story),
              "--ctx", "64")
    kld = float(re.search(r"mean KLD = ([0-9.e-]+)", out).group(1))
    top1 = float(re.search(r"top-1 agreement = ([0-9.]+)%", out).group(1))
    r = qc.load(lib).kld(model, story, ctx=64)
    assert r["kld"] == pytest.approx(kld, abs=1e-6) and r["kld"] > 0
    assert 100 * r["top1"] == pytest.approx(top1, abs=0.005)


def test_long_calls_release_the_gil(model, story):
    """Another Python thread keeps running while perplexity works."""
    import threading
    text = story.read_text()
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(1)
            done.wait(0.001)

    t = threading.Thread(target=tick)
    t.start()
    before = len(ticks)
    for _ in range(3):
        model.perplexity(text, ctx=64)
    during = len(ticks) - before
    done.set()
    t.join()
    assert during > 10
