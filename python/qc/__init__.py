"""qc from Python: load, run, quantize and compile language models, and
measure number formats on numpy arrays.

    import qc
    m = qc.load("stories260K.bin", tokenizer="tok512.bin")
    m.generate("Once upon a time", 32)
    table = qc.quantize(m, "q4.mlir", target_bpw=4, calib="calib.txt")
    qc.compile("q4.mlir", "q4.so")
    q = qc.load("q4.so")
    q.kld(m, open("eval.txt").read())

Every error qc reports raises qc.Error with the tools' one-line message.
Long calls release the GIL.
"""
import json
import os
import tempfile

from . import _qc

Error = _qc.Error

__all__ = ["Error", "Model", "Codec", "load", "quantize", "compile",
           "formats", "codec"]


def _path(value, what):
    if isinstance(value, Model):
        return value.path
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{what} must be a path or a qc.Model, "
                        f"not {type(value).__name__}")
    return os.fspath(value)


def _int(value, what, low):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < low:
        raise ValueError(f"{what} must be >= {low}, got {value}")
    return value


class Model:
    """A model qc runs: on the float reference (a GGUF file, a llama2.c
    checkpoint with its tokenizer, a Hugging Face directory, a qc archive or
    module), or on the kernels of a library quant-compile built (.so)."""

    def __init__(self, path, tokenizer=None, weights=None, threads=0,
                 mmap=False):
        self.path = _path(path, "path")
        self._tokenizer = "" if tokenizer is None else _path(tokenizer, "tokenizer")
        self._m = _qc.Model(self.path, self._tokenizer,
                            "" if weights is None else _path(weights, "weights"),
                            _int(threads, "threads", 0), bool(mmap))

    def __repr__(self):
        kind = "compiled" if self.compiled else "reference"
        c = self.config
        return (f"qc.Model({self.path!r}, {kind}, {c['arch']}, "
                f"{c['layers']} layers, dim {c['dim']})")

    @property
    def compiled(self):
        """True when it runs a library quant-compile built."""
        return self._m.compiled

    @property
    def weights(self):
        """The file the weights and tokenizer come from."""
        return self._m.weights

    @property
    def config(self):
        """Hyper-parameters: arch, dim, hidden, layers, heads, kv_heads,
        vocab, context, tied_output."""
        return self._m.config

    @property
    def tensors(self):
        """One dict per tensor: name, shape, format, bytes, elements."""
        return self._m.tensors

    def bits_per_weight(self, matrices_only=True):
        """quant-run info's "bpw matrices" (or "bpw all")."""
        rows = [t for t in self.tensors
                if len(t["shape"]) == 2 or not matrices_only]
        return 8.0 * sum(t["bytes"] for t in rows) / sum(t["elements"] for t in rows)

    def tokenize(self, text, bos=True):
        """Token ids of `text` (BOS first when the vocabulary adds one)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        return self._m.tokenize(text, bool(bos))

    def detokenize(self, ids):
        """The text of token ids."""
        return self._m.detokenize([_int(i, "token id", -2**31) for i in ids])

    def logits(self, tokens):
        """Logits of every position: numpy float32 [len(tokens), vocab]."""
        if isinstance(tokens, str):
            raise TypeError("logits takes token ids; use tokenize(text) first")
        return self._m.logits([_int(int(t) if hasattr(t, "__index__") else t,
                                    "token id", -2**31) for t in tokens])

    def generate(self, prompt, n=64, temperature=0.0, top_k=40, top_p=0.95,
                 seed=0):
        """Up to `n` tokens after `prompt`; temperature 0 is greedy. Returns
        the new text."""
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
        return self._m.generate(prompt, _int(n, "n", 0), float(temperature),
                                _int(top_k, "top_k", 0), float(top_p),
                                _int(seed, "seed", 0))

    def perplexity(self, text, ctx=256, chunks=0):
        """llama-perplexity's measure (quant-run perplexity): windows of
        `ctx` tokens, the second half of each scored. Returns a dict: ppl,
        stderr, nll, chunks, scored, tokens."""
        return self._m.perplexity(_text(text), _int(ctx, "ctx", 2),
                                  _int(chunks, "chunks", 0))

    def kld(self, baseline, text, ctx=256, chunks=0):
        """KL divergence of this model's next-token distributions from
        `baseline`'s (a Model or a path, run on the float reference) over
        the perplexity windows (quant-run kld). Returns a dict: kld, top1,
        max_abs, min_cosine, chunks, positions."""
        if not isinstance(baseline, Model):
            baseline = Model(_path(baseline, "baseline"), self._tokenizer or None)
        return self._m.kld(baseline._m, _text(text), _int(ctx, "ctx", 2),
                           _int(chunks, "chunks", 0))


def _text(text):
    if isinstance(text, os.PathLike):
        with open(text, encoding="utf-8", errors="replace") as f:
            return f.read()
    if not isinstance(text, str):
        raise TypeError(f"text must be a str (or a pathlib.Path), "
                        f"not {type(text).__name__}")
    return text


def load(path, tokenizer=None, weights=None, threads=0, mmap=False):
    """Any model or archive qc reads, or a library quant-compile built
    (`weights` overrides the archive it was compiled from)."""
    return Model(path, tokenizer, weights, threads, mmap)


def _option(value):
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if any(c in text for c in " {}"):
        raise ValueError(f"pipeline option value {text!r} may not hold spaces "
                         f"or braces (quant-opt's option syntax)")
    return text


def quantize(model, out, target_bpw=None, recipe=None, method="imatrix",
             calib=None, imatrix=None, tokenizer=None, **options):
    """Runs qc-quantize-pipeline (as quant-opt does) on `model` and writes
    the module `out` (.mlir) beside its archive (.safetensors). `model` is a
    qc module, or any model file qc reads (imported first). Give exactly one
    of `target_bpw` (a budget) and `recipe` (a JSON file). Further pipeline
    options by name: ctx, chunks, candidates, kl, compiled, xtx...
    Returns the per-tensor table: dicts of name, format, bpw, error and
    error_kind."""
    source = _path(model, "model")
    out = _path(out, "out")
    if not out.endswith(".mlir"):
        raise ValueError(f"out must name a .mlir module, got {out!r}")
    if (target_bpw is None) == (recipe is None):
        raise ValueError("give exactly one of target_bpw= and recipe=")
    if method not in ("rtn", "imatrix", "gptq"):
        raise ValueError(f"method must be rtn, imatrix or gptq, got {method!r}")
    if method != "rtn" and calib is None and imatrix is None:
        raise ValueError(f"method={method} needs calib= (text) or imatrix= "
                         f"(a llama.cpp imatrix file)")
    opts = {"method": method, "out": out[:-5] + ".safetensors"}
    if target_bpw is not None:
        if isinstance(target_bpw, bool) or not isinstance(target_bpw, (int, float)):
            raise TypeError("target_bpw must be a number")
        opts["target-bpw"] = repr(float(target_bpw))
    if recipe is not None:
        opts["recipe"] = os.path.abspath(_path(recipe, "recipe"))
    for name, value in (("calib", calib), ("imatrix", imatrix)):
        if value is not None:
            opts[name] = os.path.abspath(_path(value, name))
    for name, value in options.items():
        opts[name.replace("_", "-")] = value
    with tempfile.TemporaryDirectory(prefix="qc-") as tmp:
        if not source.endswith(".mlir"):
            imported = os.path.join(tmp, "model.mlir")
            if tokenizer is None and isinstance(model, Model):
                tokenizer = model._tokenizer or None
            _qc.import_model(source, imported,
                             "" if tokenizer is None else _path(tokenizer, "tokenizer"))
            source = imported
        opts["table"] = os.path.join(tmp, "table.json")
        pipeline = "qc-quantize-pipeline{" + " ".join(
            f"{k}={_option(v)}" for k, v in opts.items()) + "}"
        _qc.run_pipeline(source, pipeline, out)
        with open(opts["table"]) as f:
            return json.load(f)


def compile(module, out, emit="lib", target="native", kv_type=None,
            weights=None, weight_format="uniform<4,32,sym,f16>",
            kv_inputs=False):
    """quant-compile: a qc module (or a model file the runtime reads) to a
    shared library (emit="lib", for qc.load), a program ("exe"), an object
    ("obj"), LLVM IR ("llvm"), the lowered module ("mlir") or ONNX for ONNX
    Runtime ("onnx"; an ONNX graph's MatMul/Gemm weights go to
    `weight_format`; a language model takes past keys/values as inputs with
    `kv_inputs`). Returns the weights archive the artifact loads by default
    (empty for an ONNX graph)."""
    if emit not in ("lib", "exe", "obj", "llvm", "mlir", "onnx"):
        raise ValueError(f"emit must be lib, exe, obj, llvm, mlir or onnx, "
                         f"got {emit!r}")
    return _qc.compile(_path(module, "module"), _path(out, "out"), emit,
                       str(target), "" if kv_type is None else str(kv_type),
                       "" if weights is None else _path(weights, "weights"),
                       str(weight_format), bool(kv_inputs))


def formats():
    """The registered format families: (name, summary) pairs."""
    return _qc.formats()


class Codec:
    """A number format's codec: quantize numpy matrices to its packed bytes
    and back, to measure the format's error on any matrix."""

    def __init__(self, name):
        if not isinstance(name, str):
            raise TypeError(f"format name must be a str, not {type(name).__name__}")
        self._c = _qc.Codec(name)

    name = property(lambda self: self._c.name)
    block_size = property(lambda self: self._c.block_size)
    block_bytes = property(lambda self: self._c.block_bytes)
    supports_gptq = property(lambda self: self._c.supports_gptq)

    def __repr__(self):
        return f"qc.Codec({self.name!r})"

    def packed_bytes(self, rows, cols):
        return self._c.packed_bytes(rows, cols)

    def bits_per_weight(self, rows, cols):
        return self._c.bits_per_weight(rows, cols)

    def quantize(self, w, importance=None):
        """Packed bytes of `w` (2-D, float32 after conversion); `importance`
        holds one weight per column (an imatrix row) for the error search."""
        return self._c.quantize(w, importance)

    def dequantize(self, packed, shape):
        """numpy float32 [rows, cols] from packed bytes."""
        return self._c.dequantize(bytes(packed), tuple(shape))


def codec(name):
    """The codec of a format name: "Q4_K", "uniform<4,32>", "nf4"..."""
    return Codec(name)
