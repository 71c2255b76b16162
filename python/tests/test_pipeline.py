"""quantize -> compile -> load -> generate, end to end on the bundled model."""
import pytest

import qc
from conftest import MODEL, TOKENIZER


def test_quantize_compile_generate(model, story, tmp_path):
    out = tmp_path / "q4.mlir"
    table = qc.quantize(model, out, target_bpw=4, calib=story, ctx=64)
    assert len(table) == 36  # token_embd and 7 matrices in each of 5 blocks
    assert {"name", "format", "bpw", "error", "error_kind"} <= set(table[0])
    assert (tmp_path / "q4.safetensors").is_file()
    bits = sum(r["bpw"] for r in table)  # every matrix here but the embedding
    assert 2 < bits / len(table) < 6
    lib = tmp_path / "q4.so"
    assert qc.compile(out, lib).endswith("q4.safetensors")
    q = qc.load(lib)
    assert q.bits_per_weight() == pytest.approx(4.0, abs=0.01)
    text = q.generate("Once upon a time", 24)
    assert len(text) > 20 and "\ufffd" not in text
    # The budget's 3-bit and ternary tensors have no MatMulNBits form.
    with pytest.raises(qc.Error, match="which has no ONNX form"):
        qc.compile(out, tmp_path / "q4.onnx", emit="onnx")
    assert not (tmp_path / "q4.onnx").exists()
    r = q.kld(model, story, ctx=64)
    assert 0 < r["kld"] < 0.3 and r["top1"] > 0.7
    # The quantized archive on the float reference: the same weights, so
    # the compiled kernels (int8 activations) stay close to it, far closer
    # than to the float model.
    ref = qc.load(tmp_path / "q4.safetensors")
    assert q.kld(ref, story, ctx=64)["kld"] < 0.1 * r["kld"]


def test_recipe_and_rtn(model, tmp_path):
    recipe = tmp_path / "r.json"
    recipe.write_text('{"default": "Q4_0", "token_embd": "Q8_0"}')
    table = qc.quantize(MODEL, tmp_path / "r.mlir", recipe=recipe, method="rtn",
                        tokenizer=TOKENIZER)
    formats = {r["name"]: r["format"] for r in table}
    assert formats["token_embd.weight"] == "Q8_0"
    assert formats["blk.0.attn_q.weight"] == "Q4_0"
    # ffn_down's rows of 172 are no whole number of Q4_0 blocks.
    assert formats["blk.0.ffn_down.weight"] != "Q4_0"
    # Q4_0, Q8_0 and float all have an ONNX form (MatMulNBits, MatMul).
    qc.compile(tmp_path / "r.mlir", tmp_path / "r.onnx", emit="onnx")
    assert (tmp_path / "r.onnx").stat().st_size > 0


def test_onnx_kv_inputs(archive, tmp_path):
    onnx = pytest.importorskip("onnx")
    qc.compile(archive, tmp_path / "kv.onnx", emit="onnx", kv_inputs=True)
    graph = onnx.load(str(tmp_path / "kv.onnx")).graph
    inputs = [i.name for i in graph.input]
    outputs = [o.name for o in graph.output]
    assert inputs[:3] == ["input_ids", "past_key_values.0.key",
                          "past_key_values.0.value"]
    assert len(inputs) == 1 + 2 * 5 and len(outputs) == 1 + 2 * 5
    assert "present.4.value" in outputs
    dims = [d.dim_value or d.dim_param
            for d in graph.input[1].type.tensor_type.shape.dim]
    assert dims == [1, 4, "P", 8]
