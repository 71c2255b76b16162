# -*- Python -*-
import os
import sys

import lit.formats
from lit.llvm import llvm_config

config.name = "QC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.qc_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit",
                   "corpus", "Inputs"]

llvm_config.with_system_environment(["HOME", "INCLUDE", "LIB", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
# qc's tools first, then LLVM's (FileCheck, not, count).
llvm_config.with_environment(
    "PATH", [os.path.join(config.qc_obj_root, "bin"), config.llvm_tools_dir],
    append_path=True)

# Tests that need ../shared (real models, reference data) mark themselves
# `REQUIRES: shared-data` and are reported unsupported without it.
shared = os.path.join(config.qc_src_root, "..", "shared")
if os.path.isdir(os.path.join(shared, "models")):
    config.available_features.add("shared-data")
    config.substitutions.append(("%shared", os.path.abspath(shared)))
config.substitutions.append(("%qc_src", config.qc_src_root))

# A disk that fills up is a small tmpfs in a namespace of the test's own.
import subprocess
try:
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0:
        config.available_features.add("user-namespaces")
except OSError:
    pass

# The sanitizer build (scripts/test.sh's second pass) checks memory safety;
# the numeric sweeps over every format run in the plain build only
# (`UNSUPPORTED: asan`), which keeps the sanitizer pass within CI's time.
if getattr(config, "qc_sanitize", "OFF").upper() in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("asan")

# Kernels for a target run only on CPUs that have its instructions.
try:
    flags = open("/proc/cpuinfo").read().split()
except OSError:
    flags = []
for feature in ("avx2", "avx512_vnni"):
    if feature in flags:
        config.available_features.add(feature.replace("_", ""))

# Tests against llama.cpp's own tools (llama-quantize's default mixes) run
# when QC_LLAMA_CPP_BIN names its bin folder (e.g. a build made with
# ../shared/tools/build-llamacpp.sh), and are reported unsupported without.
llama_bin = os.environ.get("QC_LLAMA_CPP_BIN", "")
if llama_bin and os.path.isfile(os.path.join(llama_bin, "llama-quantize")):
    config.available_features.add("llama-cpp")
    config.substitutions.append(("%llama", os.path.abspath(llama_bin)))

# ONNX Runtime (onnxruntime-node, `npm install --ignore-scripts
# onnxruntime-node`) runs the ONNX files qc writes when QC_ONNXRUNTIME names
# the node_modules folder that holds it; such tests are unsupported without.
ort_modules = os.environ.get("QC_ONNXRUNTIME", "")
if ort_modules and os.path.isdir(os.path.join(ort_modules, "onnxruntime-node")):
    config.available_features.add("onnxruntime")
    config.environment["NODE_PATH"] = os.path.abspath(ort_modules)

# The Python package of this build (<build>/python), for scripts that use
# qc's codecs (tests/ONNX/reference-graph.py).
python_package = os.path.join(config.qc_obj_root, "python")
if os.path.isdir(os.path.join(python_package, "qc")):
    config.environment["PYTHONPATH"] = python_package
    config.available_features.add("python-qc")

# PyTorch and the onnx package (Debian's python3-torch, python3-onnx) export
# the language models test/ONNX imports; such tests are unsupported without.
try:
    if subprocess.run([sys.executable, "-c", "import torch, onnx"],
                      capture_output=True).returncode == 0:
        config.available_features.add("torch")
except OSError:
    pass
