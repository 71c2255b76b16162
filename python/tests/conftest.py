"""Shared fixtures: the bundled model, a story it wrote (evaluation text of
its own domain), and the build's tools (QC_BUILD_BIN) for comparisons."""
import os
import subprocess

import pytest

import qc

SOURCE = os.environ.get("QC_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL_DIR = os.path.join(SOURCE, "models", "stories260K")
MODEL = os.path.join(MODEL_DIR, "stories260K.bin")
TOKENIZER = os.path.join(MODEL_DIR, "tok512.bin")
BIN = os.environ.get("QC_BUILD_BIN", "")


def tool(name):
    path = os.path.join(BIN, name)
    if not os.path.isfile(path):
        pytest.skip(f"QC_BUILD_BIN does not hold {name}")
    return path


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="session")
def model():
    return qc.load(MODEL, tokenizer=TOKENIZER)


@pytest.fixture(scope="session")
def story(tmp_path_factory, model):
    """Three stories the float model tells, as quant-opt's lit tests use."""
    text = "".join(p + model.generate(p, 300) + "\n"
                   for p in ("Once upon a time", "Tom and his dog",
                             "The little bird"))
    path = tmp_path_factory.mktemp("story") / "story.txt"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def archive(tmp_path_factory):
    """The bundled model imported: m.mlir beside m.safetensors."""
    out = tmp_path_factory.mktemp("import") / "m.mlir"
    qc._qc.import_model(MODEL, str(out), TOKENIZER)
    return out
