// RUN: not quant-opt %s --qc-lower-to-cpu=target=sse9 2>&1 | FileCheck %s --check-prefix=TARGET

// Every format with a codec has a layout and so a kernel; what can fail is
// the target.
// TARGET: unknown target 'sse9' (native, avx512vbmi, avx512vnni, avxvnni, avx2 or generic)

func.func @graph(%x: tensor<?x256xf32>) -> tensor<?x2xf32> {
  %0 = qc.param "k" : !qc.qtensor<2x256, #qc.gguf<"Q5_K">>
  %1 = qc.linear %x, %0 : tensor<?x256xf32>, !qc.qtensor<2x256, #qc.gguf<"Q5_K">> -> tensor<?x2xf32>
  return %1 : tensor<?x2xf32>
}
