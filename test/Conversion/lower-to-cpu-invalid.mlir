// RUN: quant-opt %s -split-input-file --qc-lower-to-cpu=target=generic -verify-diagnostics
// RUN: not quant-opt %s -split-input-file --qc-lower-to-cpu=target=sse9 2>&1 | FileCheck %s --check-prefix=TARGET

// TARGET: unknown target 'sse9' (native, avx512vbmi, avx512vnni, avxvnni, avx2 or generic)

func.func @kquant(%x: tensor<?x256xf32>) -> tensor<?x2xf32> {
  %0 = qc.param "k" : !qc.qtensor<2x256, #qc.gguf<"Q5_K">>
  // expected-error @+1 {{qc-lower-to-cpu: no CPU kernel for ggml type Q5_K yet}}
  %1 = qc.linear %x, %0 : tensor<?x256xf32>, !qc.qtensor<2x256, #qc.gguf<"Q5_K">> -> tensor<?x2xf32>
  return %1 : tensor<?x2xf32>
}
