// RUN: quant-opt %s -split-input-file -verify-diagnostics

// expected-error @below {{uniform format bits must be in [2, 8], got 9}}
func.func @uniform_bits() -> !qc.qtensor<4x32, #qc.uniform<bits = 9, group = 32, symmetric = true, scale = f16>>

// -----

// expected-error @below {{uniform format group must be a multiple of 8 in [16, 256], got 12}}
func.func @uniform_group() -> !qc.qtensor<4x36, #qc.uniform<bits = 4, group = 12, symmetric = true, scale = f16>>

// -----

// expected-error @below {{uniform format scale must be f16, bf16 or f32, got 'i8'}}
func.func @uniform_scale() -> !qc.qtensor<4x32, #qc.uniform<bits = 4, group = 32, symmetric = true, scale = i8>>

// -----

// expected-error @below {{ternary format depth must be 1, 2 or 3 trits per weight, got 4}}
func.func @ternary_depth() -> !qc.qtensor<4x32, #qc.ternary<depth = 4, group = 16, scales = 27>>

// -----

// expected-error @below {{ternary format group must be in [4, 256], got 2}}
func.func @ternary_group() -> !qc.qtensor<4x32, #qc.ternary<depth = 2, group = 2, scales = 27>>

// -----

// expected-error @below {{ternary format scales must be a power of 3 in [1, 243] (the index is stored in trits), got 32}}
func.func @ternary_scales() -> !qc.qtensor<4x32, #qc.ternary<depth = 2, group = 16, scales = 32>>

// -----

// expected-error @below {{'Q4_2' is not a ggml tensor type}}
func.func @gguf_unknown() -> !qc.qtensor<4x32, #qc.gguf<"Q4_2">>

// -----

// expected-error @below {{ggml type IQ2_XXS has no qc codec}}
func.func @gguf_no_codec() -> !qc.qtensor<4x256, #qc.gguf<"IQ2_XXS">>

// -----

// expected-error @below {{unknown format 'Q9_9'}}
func.func @registered_unknown() -> !qc.qtensor<4x256, #qc.format<"Q9_9">>

// -----

// expected-error @below {{format 'uniform<4,32,sym,f16' must end with '>'}}
func.func @registered_unclosed() -> !qc.qtensor<4x256, #qc.format<"uniform<4,32,sym,f16">>

// -----

// expected-error @below {{statistics reference needs a file and a key}}
func.func @stats_empty() attributes {qc.importance = #qc.stats<"", "x">}

// -----

// stories260K's ffn_down rows are 172 wide: no whole number of Q4_K blocks.
// expected-error @below {{#qc.gguf<"Q4_K">: Q4_K stores rows in blocks of 256 weights; a row of 172 is not a multiple}}
func.func @gguf_row() -> !qc.qtensor<64x172, #qc.gguf<"Q4_K">>

// -----

// expected-error @below {{quantized tensors need a static shape of positive extents}}
func.func @qtensor_zero() -> !qc.qtensor<0x32, #qc.gguf<"Q8_0">>

// -----

// expected-error @below {{expected a quantization format attribute, got #qc.stats<"a", "b">}}
func.func @qtensor_not_format() -> !qc.qtensor<4x32, #qc.stats<"a", "b">>

// -----

// expected-error @below {{KV cache positions, kv_heads and head_dim must be positive}}
func.func @cache_zero() -> !qc.kv_cache<positions = 0, kv_heads = 4, head_dim = 8, element_type = f16>

// -----

// expected-error @below {{KV cache element type must be f32, f16 or i8 (q8), got 'bf16'}}
func.func @cache_type() -> !qc.kv_cache<positions = 16, kv_heads = 4, head_dim = 8, element_type = bf16>

// -----

func.func @param_name() {
  // expected-error @below {{'qc.param' op needs a non-empty tensor name}}
  %0 = qc.param "" : tensor<4xf32>
  return
}

// -----

func.func @param_dynamic() {
  // expected-error @below {{'qc.param' op weights have static shapes; got a dynamic extent}}
  %0 = qc.param "w" : tensor<?x4xf32>
  return
}

// -----

func.func @embedding_rank(%t: tensor<512xf32>, %ids: tensor<?xi32>) {
  // expected-error @below {{'qc.embedding' op table must be 2-D [vocab, dim], got rank 1}}
  %0 = qc.embedding %t[%ids] : tensor<512xf32>, tensor<?xi32> -> tensor<?x64xf32>
  return
}

// -----

func.func @embedding_result(%t: tensor<512x64xf32>, %ids: tensor<3xi32>) {
  // expected-error @below {{'qc.embedding' op result must be [tokens x dim] = [3 x 64]}}
  %0 = qc.embedding %t[%ids] : tensor<512x64xf32>, tensor<3xi32> -> tensor<3x32xf32>
  return
}

// -----

func.func @norm_weight(%x: tensor<?x64xf32>, %w: tensor<32xf32>) {
  // expected-error @below {{'qc.rms_norm' op weight length (32) must equal the input's last dimension (64)}}
  %0 = qc.rms_norm %x, %w {epsilon = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @norm_result(%x: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @below {{'qc.rms_norm' op result type must equal the input type}}
  %0 = qc.rms_norm %x, %w {epsilon = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xf32> -> tensor<3x64xf32>
  return
}

// -----

func.func @norm_epsilon(%x: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @below {{'qc.rms_norm' op epsilon must be positive}}
  %0 = qc.rms_norm %x, %w {epsilon = 0.0 : f32} : tensor<?x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @rope_odd(%x: tensor<?x63xf32>, %p: index) {
  // expected-error @below {{'qc.rope' op head_dim must be positive and even, got 7}}
  %0 = qc.rope %x at %p {head_dim = 7 : i64, theta = 1.0e+04 : f32} : tensor<?x63xf32>
  return
}

// -----

func.func @rope_width(%x: tensor<?x60xf32>, %p: index) {
  // expected-error @below {{'qc.rope' op row width (60) must be a multiple of head_dim (8)}}
  %0 = qc.rope %x at %p {head_dim = 8 : i64, theta = 1.0e+04 : f32} : tensor<?x60xf32>
  return
}

// -----

func.func @rope_theta(%x: tensor<?x64xf32>, %p: index) {
  // expected-error @below {{'qc.rope' op theta must be positive}}
  %0 = qc.rope %x at %p {head_dim = 8 : i64, theta = -1.0 : f32} : tensor<?x64xf32>
  return
}

// -----

!cache = !qc.kv_cache<positions = 16, kv_heads = 4, head_dim = 8, element_type = f16>
func.func @attention_gqa(%q: tensor<?x48xf32>, %k: tensor<?x32xf32>, %c: !cache, %p: index) {
  // expected-error @below {{'qc.attention' op heads (6) must be a positive multiple of the cache's kv_heads (4)}}
  %o, %c2 = qc.attention %q, %k, %k, %c at %p {heads = 6 : i64} : tensor<?x48xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !cache -> tensor<?x48xf32>, !cache
  return
}

// -----

!cache = !qc.kv_cache<positions = 16, kv_heads = 4, head_dim = 8, element_type = f16>
func.func @attention_query(%q: tensor<?x60xf32>, %k: tensor<?x32xf32>, %c: !cache, %p: index) {
  // expected-error @below {{'qc.attention' op query width (60) must be heads x head_dim = 64}}
  %o, %c2 = qc.attention %q, %k, %k, %c at %p {heads = 8 : i64} : tensor<?x60xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !cache -> tensor<?x60xf32>, !cache
  return
}

// -----

!cache = !qc.kv_cache<positions = 16, kv_heads = 4, head_dim = 8, element_type = f16>
func.func @attention_kv(%q: tensor<?x64xf32>, %k: tensor<?x64xf32>, %c: !cache, %p: index) {
  // expected-error @below {{'qc.attention' op key and value width must be kv_heads x head_dim = 32}}
  %o, %c2 = qc.attention %q, %k, %k, %c at %p {heads = 8 : i64} : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, !cache -> tensor<?x64xf32>, !cache
  return
}

// -----

!cache = !qc.kv_cache<positions = 16, kv_heads = 4, head_dim = 8, element_type = f16>
func.func @attention_tokens(%q: tensor<3x64xf32>, %k: tensor<2x32xf32>, %c: !cache, %p: index) {
  // expected-error @below {{'qc.attention' op query, key and value must have the same token count}}
  %o, %c2 = qc.attention %q, %k, %k, %c at %p {heads = 8 : i64} : tensor<3x64xf32>, tensor<2x32xf32>, tensor<2x32xf32>, !cache -> tensor<3x64xf32>, !cache
  return
}

// -----

!cache = !qc.kv_cache<positions = 16, kv_heads = 4, head_dim = 8, element_type = f16>
func.func @attention_result(%q: tensor<3x64xf32>, %k: tensor<3x32xf32>, %c: !cache, %p: index) {
  // expected-error @below {{'qc.attention' op result type must equal the query type}}
  %o, %c2 = qc.attention %q, %k, %k, %c at %p {heads = 8 : i64} : tensor<3x64xf32>, tensor<3x32xf32>, tensor<3x32xf32>, !cache -> tensor<?x64xf32>, !cache
  return
}

// -----

!cache = !qc.kv_cache<positions = 16, kv_heads = 4, head_dim = 8, element_type = f16>
!cache32 = !qc.kv_cache<positions = 16, kv_heads = 4, head_dim = 8, element_type = f32>
func.func @attention_cache(%q: tensor<3x64xf32>, %k: tensor<3x32xf32>, %c: !cache, %p: index) {
  // expected-error @below {{'qc.attention' op updated cache type must equal the cache type}}
  %o, %c2 = qc.attention %q, %k, %k, %c at %p {heads = 8 : i64} : tensor<3x64xf32>, tensor<3x32xf32>, tensor<3x32xf32>, !cache -> tensor<3x64xf32>, !cache32
  return
}

// -----

func.func @linear_rank(%x: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @below {{'qc.linear' op weight must be 2-D [out, in], got rank 1}}
  %0 = qc.linear %x, %w : tensor<?x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @linear_in(%x: tensor<?x64xf32>, %w: !qc.qtensor<172x32, #qc.gguf<"Q8_0">>) {
  // expected-error @below {{'qc.linear' op weight input dimension (32) must equal the input's last dimension (64)}}
  %0 = qc.linear %x, %w : tensor<?x64xf32>, !qc.qtensor<172x32, #qc.gguf<"Q8_0">> -> tensor<?x172xf32>
  return
}

// -----

func.func @linear_out(%x: tensor<?x64xf32>, %w: tensor<172x64xf32>) {
  // expected-error @below {{'qc.linear' op result must be [tokens x out] = [? x 172], got [? x 64]}}
  %0 = qc.linear %x, %w : tensor<?x64xf32>, tensor<172x64xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<?x64xf32>, %w: tensor<172x64xf32>, %b: tensor<64xf32>) {
  // expected-error @below {{'qc.linear' op bias length must equal the weight's out dimension (172)}}
  %0 = qc.linear %x, %w, %b : tensor<?x64xf32>, tensor<172x64xf32>, tensor<64xf32> -> tensor<?x172xf32>
  return
}

// -----

func.func @logits_in(%x: tensor<?x64xf32>, %w: tensor<512x32xf32>) {
  // expected-error @below {{'qc.logits' op weight input dimension (32) must equal the input's last dimension (64)}}
  %0 = qc.logits %x, %w : tensor<?x64xf32>, tensor<512x32xf32> -> tensor<?x512xf32>
  return
}

// -----

func.func @quantize_shape(%w: tensor<64x32xf32>) {
  // expected-error @below {{'qc.quantize' op float and quantized shapes must match}}
  %0 = qc.quantize %w : tensor<64x32xf32> -> !qc.qtensor<32x64, #qc.gguf<"Q8_0">>
  return
}

// -----

func.func @dequantize_shape(%q: !qc.qtensor<32x64, #qc.gguf<"Q8_0">>) {
  // expected-error @below {{'qc.dequantize' op float and quantized shapes must match}}
  %0 = qc.dequantize %q : !qc.qtensor<32x64, #qc.gguf<"Q8_0">> -> tensor<64x32xf32>
  return
}

// -----

func.func @pack_bytes(%q: !qc.qtensor<2x32, #qc.gguf<"Q8_0">>) {
  // expected-error @below {{'qc.pack' op byte tensor must hold the packed size of '!qc.qtensor<2x32, #qc.gguf<"Q8_0">>': 68 bytes, got 64}}
  %0 = qc.pack %q : !qc.qtensor<2x32, #qc.gguf<"Q8_0">> -> tensor<64xi8>
  return
}

// -----

func.func @unpack_bytes(%b: tensor<?xi8>) {
  // expected-error @below {{'qc.unpack' op byte tensor must hold the packed size of '!qc.qtensor<1x16, #qc.ternary<depth = 2, group = 16, scales = 27>>': 11 bytes, got ?}}
  %0 = qc.unpack %b : tensor<?xi8> -> !qc.qtensor<1x16, #qc.ternary<depth = 2, group = 16, scales = 27>>
  return
}

// -----

func.func @silu_type(%x: tensor<4xi32>) {
  // expected-error @below {{'qc.silu' op operand #0 must be ranked tensor of 32-bit float values}}
  %0 = qc.silu %x : tensor<4xi32>
  return
}
