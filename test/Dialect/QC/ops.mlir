// RUN: quant-opt %s | FileCheck %s
// RUN: quant-opt %s | quant-opt | FileCheck %s
// RUN: quant-opt %s --mlir-print-op-generic | quant-opt | FileCheck %s

// CHECK-LABEL: func.func @formats_and_weights
func.func @formats_and_weights() {
  // CHECK: qc.param "tok_embeddings.weight" : tensor<512x64xf32>
  %e = qc.param "tok_embeddings.weight" : tensor<512x64xf32>
  // CHECK: qc.param "w.uniform" : !qc.qtensor<64x172, #qc.uniform<bits = 4, group = 32, symmetric = true, scale = f16>>
  %u = qc.param "w.uniform" : !qc.qtensor<64x172, #qc.uniform<bits = 4, group = 32, symmetric = true, scale = f16>>
  // CHECK: qc.param "w.asym" : !qc.qtensor<8x64, #qc.uniform<bits = 3, group = 16, symmetric = false, scale = bf16>>
  %a = qc.param "w.asym" : !qc.qtensor<8x64, #qc.uniform<bits = 3, group = 16, symmetric = false, scale = bf16>>
  // CHECK: qc.param "w.ternary" : !qc.qtensor<64x172, #qc.ternary<depth = 2, group = 16, scales = 27>>
  %t = qc.param "w.ternary" : !qc.qtensor<64x172, #qc.ternary<depth = 2, group = 16, scales = 27>>
  // CHECK: qc.param "w.q4k" {qc.importance = #qc.stats<"calib.imatrix", "blk.0.ffn_up.weight">} : !qc.qtensor<256x512, #qc.gguf<"Q4_K">>
  %k = qc.param "w.q4k" {qc.importance = #qc.stats<"calib.imatrix", "blk.0.ffn_up.weight">} : !qc.qtensor<256x512, #qc.gguf<"Q4_K">>
  // Any registered format by name (research formats have no attribute of
  // their own).
  // CHECK: qc.param "w.registered" : !qc.qtensor<4x256, #qc.format<"Q6_K">>
  %r = qc.param "w.registered" : !qc.qtensor<4x256, #qc.format<"Q6_K">>
  return
}

// CHECK-LABEL: func.func @quantization
// CHECK-SAME: (%[[W:.+]]: tensor<64x64xf32>)
func.func @quantization(%w: tensor<64x64xf32>) -> tensor<64x64xf32> {
  // CHECK: %[[Q:.+]] = qc.quantize %[[W]] : tensor<64x64xf32> -> !qc.qtensor<64x64, #qc.gguf<"Q8_0">>
  %q = qc.quantize %w : tensor<64x64xf32> -> !qc.qtensor<64x64, #qc.gguf<"Q8_0">>
  // CHECK: %[[B:.+]] = qc.pack %[[Q]] : !qc.qtensor<64x64, #qc.gguf<"Q8_0">> -> tensor<4352xi8>
  %b = qc.pack %q : !qc.qtensor<64x64, #qc.gguf<"Q8_0">> -> tensor<4352xi8>
  // CHECK: %[[U:.+]] = qc.unpack %[[B]] : tensor<4352xi8> -> !qc.qtensor<64x64, #qc.gguf<"Q8_0">>
  %u = qc.unpack %b : tensor<4352xi8> -> !qc.qtensor<64x64, #qc.gguf<"Q8_0">>
  // CHECK: qc.dequantize %[[U]] : !qc.qtensor<64x64, #qc.gguf<"Q8_0">> -> tensor<64x64xf32>
  %d = qc.dequantize %u : !qc.qtensor<64x64, #qc.gguf<"Q8_0">> -> tensor<64x64xf32>
  return %d : tensor<64x64xf32>
}

!cache = !qc.kv_cache<positions = 512, kv_heads = 4, head_dim = 8, element_type = f16>

// One llama block of stories260K: dim 64, 8 heads, 4 KV heads, hidden 172.
// CHECK-LABEL: func.func @block
func.func @block(%ids: tensor<?xi32>, %pos: index, %cache: !cache)
    -> (tensor<?x512xf32>, !cache) {
  %emb = qc.param "tok_embeddings.weight" : tensor<512x64xf32>
  %norm_w = qc.param "layers.0.attention_norm.weight" : tensor<64xf32>
  %wq = qc.param "layers.0.attention.wq.weight" : !qc.qtensor<64x64, #qc.gguf<"Q8_0">>
  %wk = qc.param "layers.0.attention.wk.weight" : tensor<32x64xf32>
  %wv = qc.param "layers.0.attention.wv.weight" : tensor<32x64xf32>
  %bq = qc.param "layers.0.attention.wq.bias" : tensor<64xf32>
  %w1 = qc.param "layers.0.feed_forward.w1.weight" : !qc.qtensor<172x64, #qc.ternary<depth = 2, group = 16, scales = 27>>
  %w3 = qc.param "layers.0.feed_forward.w3.weight" : tensor<172x64xf32>
  // CHECK: %[[H:.+]] = qc.embedding %{{.+}}[%{{.+}}] : tensor<512x64xf32>, tensor<?xi32> -> tensor<?x64xf32>
  %h = qc.embedding %emb[%ids] : tensor<512x64xf32>, tensor<?xi32> -> tensor<?x64xf32>
  // CHECK: qc.rms_norm %[[H]], %{{.+}} {epsilon = 9.99999974E-6 : f32} : tensor<?x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  %x = qc.rms_norm %h, %norm_w {epsilon = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  // CHECK: qc.linear %{{.+}}, %{{.+}}, %{{.+}} : tensor<?x64xf32>, !qc.qtensor<64x64, #qc.gguf<"Q8_0">>, tensor<64xf32> -> tensor<?x64xf32>
  %q = qc.linear %x, %wq, %bq : tensor<?x64xf32>, !qc.qtensor<64x64, #qc.gguf<"Q8_0">>, tensor<64xf32> -> tensor<?x64xf32>
  %k = qc.linear %x, %wk : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %v = qc.linear %x, %wv : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  // CHECK: qc.rope %{{.+}} at %{{.+}} {head_dim = 8 : i64, theta = 1.000000e+04 : f32} : tensor<?x64xf32>
  %qr = qc.rope %q at %pos {head_dim = 8 : i64, theta = 1.0e+04 : f32} : tensor<?x64xf32>
  // CHECK: qc.rope %{{.+}} at %{{.+}} {freq_scale = 2.500000e-01 : f32, head_dim = 8 : i64, neox, theta = 1.000000e+06 : f32} : tensor<?x32xf32>
  %kr = qc.rope %k at %pos {head_dim = 8 : i64, theta = 1.0e+06 : f32, freq_scale = 0.25 : f32, neox} : tensor<?x32xf32>
  // CHECK: %{{.+}}, %[[C:.+]] = qc.attention %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} at %{{.+}} {heads = 8 : i64}
  %o, %c = qc.attention %qr, %kr, %v, %cache at %pos {heads = 8 : i64}
      : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !cache -> tensor<?x64xf32>, !cache
  // CHECK: arith.addf
  %r = arith.addf %h, %o : tensor<?x64xf32>
  %g = qc.linear %r, %w1 : tensor<?x64xf32>, !qc.qtensor<172x64, #qc.ternary<depth = 2, group = 16, scales = 27>> -> tensor<?x172xf32>
  // CHECK: qc.silu %{{.+}} : tensor<?x172xf32>
  %s = qc.silu %g : tensor<?x172xf32>
  // CHECK: qc.gelu %{{.+}} : tensor<?x172xf32>
  %ge = qc.gelu %s : tensor<?x172xf32>
  %up = qc.linear %r, %w3 : tensor<?x64xf32>, tensor<172x64xf32> -> tensor<?x172xf32>
  // CHECK: arith.mulf
  %m = arith.mulf %ge, %up : tensor<?x172xf32>
  // CHECK: qc.logits %{{.+}}, %{{.+}} : tensor<?x64xf32>, tensor<512x64xf32> -> tensor<?x512xf32>
  %l = qc.logits %r, %emb : tensor<?x64xf32>, tensor<512x64xf32> -> tensor<?x512xf32>
  // CHECK: qc.softmax %{{.+}} : tensor<?x512xf32>
  %p = qc.softmax %l : tensor<?x512xf32>
  // CHECK: return %{{.+}}, %[[C]]
  return %p, %c : tensor<?x512xf32>, !cache
}
