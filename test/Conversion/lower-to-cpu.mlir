// RUN: quant-opt %s -split-input-file --qc-lower-to-cpu=target=avx512vnni | FileCheck %s --check-prefix=VNNI
// RUN: quant-opt %s -split-input-file --qc-lower-to-cpu=target=avxvnni | FileCheck %s --check-prefix=AVXVNNI
// RUN: quant-opt %s -split-input-file --qc-lower-to-cpu=target=generic | FileCheck %s --check-prefix=GENERIC
// RUN: quant-opt %s -split-input-file --qc-lower-to-cpu=target=avx2 | FileCheck %s --check-prefix=AVX2
// RUN: quant-opt %s -split-input-file --qc-lower-to-cpu=target=avx512vbmi | FileCheck %s --check-prefix=VBMI

// Q4_0 with int8 activations: low nibbles masked, high ones shifted down,
// the halves joined into 32 lanes and centred; |w| and x * sign(w) meet in vpdpbusd on targets with
// int8 dot products; elsewhere f32 activations and vector FMAs. One kernel per (format,
// shape) however often it is used; the graph function is gone.
// VNNI-NOT: func.func @graph
// VNNI: func.func @qc_linear_0(%{{.+}}: memref<?xi8>, %{{.+}}: memref<?xi8>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xi32>, %{{.+}}: memref<?xf32>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index) attributes {llvm.emit_c_interface, qc.kernel = "Q4_0:32x64@q8"}
// Token tiles take sixteen rows at once. Per span of up to eight tiles the
// accumulators' start values, -8 * sum(x) per (token, block), are computed
// once (room for 128 x 2); per block of sixteen rows the codes are decoded
// once into chunk vectors (lane i: four codes of row i) that every tile of
// the span reads.
// VNNI: %[[ZS:.+]] = memref.alloca() : memref<256xi32>
// VNNI: %[[DC:.+]] = memref.alloca() {alignment = 64 : i64} : memref<1024xi8>
// VNNI: arith.muli %{{.+}}, %c-8_i32 : i32
// VNNI: memref.store %{{.+}}, %[[ZS]][%{{.+}}] : memref<256xi32>
// VNNI: vector.store %{{.+}}, %[[DC]][%{{.+}}] : memref<1024xi8>, vector<64xi8>
// VNNI: vector.load %[[DC]][%{{.+}}] : memref<1024xi8>, vector<64xi8>
// VNNI: %[[Z:.+]] = memref.load %[[ZS]][%{{.+}}] : memref<256xi32>
// VNNI: vector.broadcast %[[Z]] : i32 to vector<16xi32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// Single tokens, one row at a time:
// VNNI: vector.load %{{.+}} : memref<?xi8>, vector<16xi8>
// VNNI: arith.andi %{{.+}}, %{{.+}} : vector<16xi8>
// VNNI: arith.shrui %{{.+}}, %{{.+}} : vector<16xi8>
// VNNI: vector.shuffle {{.*}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31] : vector<16xi8>, vector<16xi8>
// VNNI: arith.constant dense<8> : vector<32xi16>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// VNNI: vector.fma {{.*}} : vector<8xf32>
// VNNI: vector.reduction <add>, {{.*}} fastmath<reassoc>
// VNNI-NOT: qc_linear_1
// The activations' quantization for width 64, once: per block of 32 the
// absolute maximum, codes rounded to nearest even, the sums of each 16.
// VNNI: func.func @qc_quantize_q8_64({{.*}}qc.kernel = "quantize_q8:64"
// VNNI: vector.reduction <maximumf>
// VNNI: math.roundeven %{{.+}} : vector<32xf32>
// VNNI: arith.fptosi %{{.+}} : vector<32xf32> to vector<32xi8>
// VNNI-COUNT-2: vector.reduction <add>, %{{.+}} : vector<16xi32> into i32
// VNNI-NOT: vector.maskedload
// AVXVNNI: llvm.call_intrinsic "llvm.x86.avxvnni.vpdpbusd.256"
// AVX2 alone (no VNNI instructions) takes pmaddubsw pairs, pmaddwd by ones.
// AVX2: qc.kernel = "Q4_0:32x64@q8"
// AVX2: %[[PAIRS:.+]] = llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"(%{{.+}}, %{{.+}}) : (vector<32xi8>, vector<32xi8>) -> vector<16xi16>
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%[[PAIRS]], %{{.+}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// GENERIC: func.func @qc_linear_0(%{{.+}}: memref<?xi8>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index) attributes {llvm.emit_c_interface, qc.kernel = "Q4_0:32x64"}
// GENERIC-NOT: call_intrinsic
// GENERIC: arith.sitofp %{{.+}} : vector<32xi16> to vector<32xf32>
// GENERIC: vector.fma {{.*}} : vector<32xf32>
// GENERIC-NOT: quantize_q8
module {
  func.func @graph(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
    %0 = qc.param "a" : !qc.qtensor<32x64, #qc.gguf<"Q4_0">>
    %1 = qc.param "b" : !qc.qtensor<32x64, #qc.gguf<"Q4_0">>
    %2 = qc.linear %x, %0 : tensor<?x64xf32>, !qc.qtensor<32x64, #qc.gguf<"Q4_0">> -> tensor<?x32xf32>
    %3 = qc.linear %x, %1 : tensor<?x64xf32>, !qc.qtensor<32x64, #qc.gguf<"Q4_0">> -> tensor<?x32xf32>
    return %3 : tensor<?x32xf32>
  }
}

// -----

// Float weights: f32 kernels on every target, 16 lanes a chunk. AVX-512
// token tiles take 4 rows x 6 tokens: one activation load feeds the four
// rows' FMAs (24 accumulators). A row of 20 ends in masked loads of the
// weights (whole elements) and of x.
// VNNI: qc.kernel = "F16:2x20"
// VNNI: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c6
// VNNI: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c4
// VNNI: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// VNNI-COUNT-4: vector.bitcast %{{.+}} : vector<32xi8> to vector<16xf16>
// VNNI: %[[X:.+]] = vector.load %{{.+}} : memref<?xf32>, vector<16xf32>
// VNNI-COUNT-4: vector.fma %{{.+}}, %[[X]], %{{.+}} : vector<16xf32>
// VNNI: vector.constant_mask [4] : vector<16xi1>
// VNNI: vector.maskedload %{{.+}} : memref<?xi8>, vector<32xi1>, vector<32xi8> into vector<32xi8>
// VNNI: vector.maskedload %{{.+}} : memref<?xf32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
module {
  func.func @graph(%x: tensor<?x20xf32>) -> tensor<?x2xf32> {
    %0 = qc.param "f" : tensor<2x20xf16>
    %1 = qc.linear %x, %0 : tensor<?x20xf32>, tensor<2x20xf16> -> tensor<?x2xf32>
    return %1 : tensor<?x2xf32>
  }
}

// -----

// Ternary: the group's scale index (its first three trits: byte 0 mod 27)
// picks a codebook entry (a constant global) times the f32 tensor scale;
// weight trits come out of bytes by multiply-shift digit extraction, no
// division.
// VNNI: memref.global "private" constant @[[TABLE:qc_table_27_[0-9A-F]+]] : memref<27xf32>
// VNNI: qc.kernel = "ternary<2,16,27>:4x64@q8"
// VNNI: memref.get_global @[[TABLE]]
// VNNI: %[[C27:.+]] = arith.constant 27 : i32
// VNNI: arith.remui %{{.+}}, %[[C27]] : i32
// VNNI: arith.constant dense<21846> : vector<16xi32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.128"
module {
  func.func @graph(%x: tensor<?x64xf32>) -> tensor<?x4xf32> {
    %0 = qc.param "t" : !qc.qtensor<4x64, #qc.ternary<depth = 2, group = 16, scales = 27>>
    %1 = qc.linear %x, %0 : tensor<?x64xf32>, !qc.qtensor<4x64, #qc.ternary<depth = 2, group = 16, scales = 27>> -> tensor<?x4xf32>
    return %1 : tensor<?x4xf32>
  }
}

// -----

// Superblock kernels: a register of codes decodes at once and meets the
// tile's activations, rearranged once per tile into a stack buffer to match
// lane for lane, in integer dots whose i32 lanes are single groups.
// Depth-1 ternary groups of 16 are 4 bytes: 16 groups (256 weights) a
// register with AVX-512, 8 with AVX2; token tiles of 8 over row pairs (each
// activation vector loaded serves both rows). The buffer is cache-line
// aligned (vector loads across two lines doubled the generation time in
// some processes). Per token and superblock the buffer
// holds five activation vectors (one per base-3 digit), -sum(x) of each
// group (the start value, for the -1 of the codes) and the activation
// scales; a row's bytes, split into even and odd 16-bit lanes, give their
// digits by pmulhuw division by 3; the group scales come from the codebook
// by vpermi2ps (AVX-512) or a gather.
// VNNI: qc.kernel = "ternary<1,16,27>:4x512@q8"
// VNNI: memref.alloca() {alignment = 64 : i64} : memref<7168xi8>
// VNNI: vector.shuffle
// VNNI-SAME: : vector<256xi8>, vector<256xi8>
// VNNI: arith.muli %{{.+}}, %{{.+}} : vector<16xi32>
// VNNI: vector.shuffle %{{.+}}, %{{.+}} [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7] : vector<8xf32>, vector<8xf32>
// VNNI: vector.load %{{.+}} : memref<?xi8>, vector<64xi8>
// VNNI: vector.bitcast %{{.+}} : vector<64xi8> to vector<32xi16>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.pmulhu.w.512"
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.ps.512"
// VNNI-COUNT-5: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: vector.fma {{.*}} : vector<16xf32>
// With VBMI the digits are table lookups instead, for token tiles and
// single tokens alike: vpermi2b over 128-byte tables, bit 7 choosing
// between two; one table holds digits 0..3 packed two bits each, one digit
// 4. The group's scale index (its first byte's low three digits) is one
// vpermb of the packed digits, no division.
// VBMI: qc.kernel = "ternary<1,16,27>:4x512@q8"
// VBMI-NOT: pmulhu
// VBMI-COUNT-4: llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.qi.512"
// VBMI-NOT: pmulhu
// VBMI-NOT: arith.remui
// VBMI: %[[IDX:.+]] = llvm.call_intrinsic "llvm.x86.avx512.permvar.qi.512"
// VBMI: %[[K:.+]] = vector.bitcast %[[IDX]] : vector<64xi8> to vector<16xi32>
// VBMI: llvm.call_intrinsic "llvm.x86.avx512.vpermi2var.ps.512"(%{{.+}}, %[[K]], %{{.+}})
// VBMI-COUNT-5: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// AVX2: qc.kernel = "ternary<1,16,27>:4x512@q8"
// AVX2: memref.alloca() {alignment = 64 : i64} : memref<7168xi8>
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmulhu.w"
// AVX2: vector.gather
// AVX2-COUNT-5: llvm.call_intrinsic "llvm.x86.avx2.pmadd.ub.sw"
// GENERIC: qc.kernel = "ternary<1,16,27>:4x512"
// GENERIC-NOT: memref.alloca
module {
  func.func @graph(%x: tensor<?x512xf32>) -> tensor<?x4xf32> {
    %0 = qc.param "t" : !qc.qtensor<4x512, #qc.ternary<depth = 1, group = 16, scales = 27>>
    %1 = qc.linear %x, %0 : tensor<?x512xf32>, !qc.qtensor<4x512, #qc.ternary<depth = 1, group = 16, scales = 27>> -> tensor<?x4xf32>
    return %1 : tensor<?x4xf32>
  }
}

// -----

// Asymmetric uniform 5-bit: fields span two bytes (high byte shifted in),
// and the minimum enters through the activations' per-16 sums.
// VNNI: qc.kernel = "uniform<5,32,asym,f16>:8x64@q8"
// VNNI: arith.shli %{{.+}}, %{{.+}} : vector<32xi16>
// VNNI: arith.constant dense<31> : vector<32xi16>
// VNNI: memref.load %{{.+}} : memref<?xi32>
// VNNI: arith.sitofp %{{.+}} : i32 to f32
module {
  func.func @graph(%x: tensor<?x64xf32>) -> tensor<?x512xf32> {
    %0 = qc.param "u" : !qc.qtensor<8x64, #qc.uniform<bits = 5, group = 32, symmetric = false, scale = f16>>
    %1 = qc.param "e" : tensor<512x64xf32>
    %2 = qc.linear %x, %0 : tensor<?x64xf32>, !qc.qtensor<8x64, #qc.uniform<bits = 5, group = 32, symmetric = false, scale = f16>> -> tensor<?x8xf32>
    %3 = qc.logits %x, %1 : tensor<?x64xf32>, tensor<512x64xf32> -> tensor<?x512xf32>
    return %3 : tensor<?x512xf32>
  }
}
// The output head gets its kernel too.
// VNNI: qc.kernel = "F32:512x64"

// -----

// Q4_K: a 256-weight block holds eight groups; each group's 6-bit scale and
// minimum are unpacked from the shared 12 bytes (as eight lanes), times d
// and dmin. Group by group below AVX-512.
// Sixteen rows or more: token tiles take the 16-row block kernel. A
// format with minimums gets dx * sum(x) per (token, group of 32) once per
// span of tiles (room for 128 x 8 floats), which each group minimum meets
// in an FMA. Q4_K takes one activation scale per 256 weights ("@q8k",
// Q8_K's granularity), quantized by its own kernel. Below AVX-512 a single
// token's superblock is eight 32-byte code vectors (a group each): pair
// sums by pmaddubsw, scaled by the group's i16 scale in pmaddwd, and the
// minimums times the group sums of the activations in another pmaddwd.
// The rows' packed bytes are transposed (32 from 16 + 32p serve groups 2p
// and 2p + 1), then masked (low nibbles) or shifted and masked (high).
// VNNI: qc.kernel = "Q4_K:16x256@q8k"
// VNNI: %[[MF:.+]] = memref.alloca() : memref<1024xf32>
// VNNI: arith.sitofp %{{.+}} : i32 to f32
// VNNI: memref.store %{{.+}}, %[[MF]][%{{.+}}] : memref<1024xf32>
// VNNI: vector.load %{{.+}} : memref<?xi8>, vector<32xi8>
// VNNI: arith.andi %{{.+}}, %{{.+}} : vector<16xi32>
// VNNI: %[[HI:.+]] = arith.shrui %{{.+}}, %{{.+}} : vector<16xi32>
// VNNI: arith.andi %[[HI]], %{{.+}} : vector<16xi32>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: %[[F:.+]] = memref.load %[[MF]][%{{.+}}] : memref<1024xf32>
// VNNI: %[[B:.+]] = vector.broadcast %[[F]] : f32 to vector<16xf32>
// VNNI: vector.fma %{{.+}}, %[[B]], %{{.+}} : vector<16xf32>
// VNNI: func.func @qc_quantize_q8k_256({{.*}}qc.kernel = "quantize_q8k:256"
// VNNI: vector.load %{{.+}} : memref<?xf32>, vector<256xf32>
// VNNI-COUNT-16: vector.reduction <add>, %{{.+}} : vector<16xi32> into i32
// AVXVNNI: qc.kernel = "Q4_K:16x256@q8k"
// AVXVNNI: func.func @qc_quantize_q8k_256({{.*}}qc.kernel = "quantize_q8k:256"
// AVX2: qc.kernel = "Q4_K:16x256@q8k"
// AVX2-COUNT-8: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%{{[0-9]+}}, %{{[0-9]+}}) : (vector<16xi16>, vector<16xi16>) -> vector<8xi32>
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"(%{{[0-9]+}}, %{{[0-9]+}})
// AVX2: arith.negf
module {
  func.func @graph(%x: tensor<?x256xf32>) -> tensor<?x16xf32> {
    %0 = qc.param "k" : !qc.qtensor<16x256, #qc.gguf<"Q4_K">>
    %1 = qc.linear %x, %0 : tensor<?x256xf32>, !qc.qtensor<16x256, #qc.gguf<"Q4_K">> -> tensor<?x16xf32>
    return %1 : tensor<?x16xf32>
  }
}

// -----

// AVXVNNI: qc.kernel = "Q4_K:8x256@q8k"
// The 6-bit scales and minimums assemble from the layout's 4- and 2-bit pieces.
// AVXVNNI: arith.constant dense<3> : vector<8xi32>
// AVXVNNI: arith.negf
// AVXVNNI: llvm.call_intrinsic "llvm.x86.avxvnni.vpdpbusd.256"
// With AVX-512, one token takes a superblock kernel: the low and high
// nibbles of the block's two 64-byte halves are four code vectors, each two
// groups of 32 with their own accumulator. With one activation scale per
// superblock the integer scales spread to their groups' lanes, multiply the
// accumulators and sum as integers; the integer minimums meet the sums of
// 32 activations. Two conversions and FMAs per superblock: d * dx and
// -dmin * dx. Token tiles keep the 16-row kernels.
// VNNI: qc.kernel = "Q4_K:8x256@q8k"
// VNNI: memref.alloca() {alignment = 64 : i64} : memref<320xi8>
// VNNI: arith.constant dense<3> : vector<8xi32>
// VNNI: vector.shuffle %{{.+}}, %{{.+}} [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 64, 65,
// VNNI-COUNT-4: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI-COUNT-4: arith.muli %{{.+}}, %{{.+}} : vector<16xi32>
// VNNI: %[[MN:.+]] = arith.muli %{{.+}}, %{{.+}} : vector<16xi32>
// VNNI: arith.sitofp %[[MN]] : vector<16xi32> to vector<16xf32>
// VNNI: vector.fma {{.*}} : vector<16xf32>
module {
  func.func @graph(%x: tensor<?x256xf32>) -> tensor<?x8xf32> {
    %0 = qc.param "k" : !qc.qtensor<8x256, #qc.gguf<"Q4_K">>
    %1 = qc.linear %x, %0 : tensor<?x256xf32>, !qc.qtensor<8x256, #qc.gguf<"Q4_K">> -> tensor<?x8xf32>
    return %1 : tensor<?x8xf32>
  }
}

// -----

// 8-bit fields: pmaddubsw would saturate on codes up to 255, so AVX2 keeps
// f32 activations for them; VNNI's i32 products take them as int8.
// AVX2: qc.kernel = "Q8_0:4x32"}
// AVX2-NOT: call_intrinsic
// AVX2: vector.fma
// VNNI: qc.kernel = "Q8_0:4x32@q8"
module {
  func.func @graph(%x: tensor<?x32xf32>) -> tensor<?x4xf32> {
    %0 = qc.param "e" : !qc.qtensor<4x32, #qc.gguf<"Q8_0">>
    %1 = qc.linear %x, %0 : tensor<?x32xf32>, !qc.qtensor<4x32, #qc.gguf<"Q8_0">> -> tensor<?x4xf32>
    return %1 : tensor<?x4xf32>
  }
}

// -----

// Q4_0, one token (AVX-512): superblocks of four blocks, each block's 16
// code bytes and f16 scale loaded on their own (a 64-byte load at the
// 18-byte stride would split across lines), joined into one register of
// codes and one scale per block in four i32 lanes; low and high nibbles meet
// two activation vectors, started at -8 * sum(x) in lane 4k of block k.
// VNNI: qc.kernel = "Q4_0:8x256@q8"
// VNNI: memref.alloca() {alignment = 64 : i64} : memref<512xi8>
// VNNI: arith.muli %{{.+}}, %{{.+}} : vector<16xi32>
// VNNI-COUNT-4: vector.load %{{.+}} : memref<?xi8>, vector<16xi8>
// VNNI: arith.extf %{{.+}} : vector<4xf16> to vector<4xf32>
// VNNI: vector.shuffle %{{.+}}, %{{.+}} [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3] : vector<4xf32>, vector<4xf32>
// VNNI-COUNT-2: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: vector.fma {{.*}} : vector<16xf32>
// AVX2 keeps the block kernels: no superblock activation buffer, only the
// span's accumulator start values (i32) and a decoded block of eight rows
// (32-byte chunk vectors, scales).
// AVX2: qc.kernel = "Q4_0:8x256@q8"
// AVX2-NOT: memref.alloca() {{.*}}xi8>
// AVX2: memref.alloca() : memref<1024xi32>
// AVX2-NEXT: memref.alloca() {alignment = 64 : i64} : memref<2048xi8>
// AVX2-NEXT: memref.alloca() {alignment = 64 : i64} : memref<128xf32>
// AVX2-NOT: memref.alloca() {{.*}}xi8>
// AVX2: func.func @qc_quantize_q8_256
module {
  func.func @graph(%x: tensor<?x256xf32>) -> tensor<?x8xf32> {
    %0 = qc.param "q" : !qc.qtensor<8x256, #qc.gguf<"Q4_0">>
    %1 = qc.linear %x, %0 : tensor<?x256xf32>, !qc.qtensor<8x256, #qc.gguf<"Q4_0">> -> tensor<?x8xf32>
    return %1 : tensor<?x8xf32>
  }
}

// -----

// An input width that is not a whole number of 32-blocks: the quantization
// kernel's last block is a masked load (the rest of it zero codes).
// VNNI: qc.kernel = "uniform<4,32,sym,f16>:8x72@q8"
// VNNI: func.func @qc_quantize_q8_72({{.*}}qc.kernel = "quantize_q8:72"
// VNNI: %[[M:.+]] = vector.constant_mask [8] : vector<32xi1>
// VNNI: vector.maskedload %{{.+}}, %[[M]], %{{.+}} : memref<?xf32>, vector<32xi1>, vector<32xf32> into vector<32xf32>
module {
  func.func @graph(%x: tensor<?x72xf32>) -> tensor<?x8xf32> {
    %0 = qc.param "u" : !qc.qtensor<8x72, #qc.uniform<bits = 4, group = 32, symmetric = true, scale = f16>>
    %1 = qc.linear %x, %0 : tensor<?x72xf32>, !qc.qtensor<8x72, #qc.uniform<bits = 4, group = 32, symmetric = true, scale = f16>> -> tensor<?x8xf32>
    return %1 : tensor<?x8xf32>
  }
}

// -----

// Formats decode from their codec's layout, not from their names. Q6_K:
// groups of 16 under int8 sub-block scales (stored two's complement:
// XOR 128, minus 128), a zero point of 32; on AVX-512 an integer-scale
// superblock: each code vector is 64 weights in order, every piece (low
// nibbles, two high bits) loaded 32 at a time, shifted and masked; the
// accumulators' lanes take their groups' scales and the zero point enters
// as scale * 32 times the groups' activation sums.
// MXFP4: a value table (e2m1) as a module constant, indexed by the codes
// through a gather, under an e8m0 scale (the byte as an f32 exponent).
// VNNI: memref.global "private" constant @[[E2M1:qc_table_16_[0-9A-F]+]] : memref<16xf32> = dense<[0.000000e+00, 5.000000e-01,
// VNNI: qc.kernel = "Q6_K:8x256@q8k"
// VNNI: %[[RAW:.+]] = arith.xori %{{.+}}, %{{.+}} : vector<16xi32>
// VNNI: arith.subi %[[RAW]], %{{.+}} : vector<16xi32>
// VNNI: arith.shrui %{{.+}}, %{{.+}} : vector<32xi8>
// VNNI: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// VNNI: qc.kernel = "MXFP4:8x256"
// VNNI: memref.get_global @[[E2M1]]
// VNNI: arith.shli %{{.+}}, %{{.+}} : i32
// VNNI: vector.gather
module {
  func.func @graph(%x: tensor<?x256xf32>) -> tensor<?x8xf32> {
    %0 = qc.param "k" : !qc.qtensor<8x256, #qc.gguf<"Q6_K">>
    %1 = qc.linear %x, %0 : tensor<?x256xf32>, !qc.qtensor<8x256, #qc.gguf<"Q6_K">> -> tensor<?x8xf32>
    %2 = qc.param "n" : !qc.qtensor<8x256, #qc.gguf<"MXFP4">>
    %3 = qc.linear %x, %2 : tensor<?x256xf32>, !qc.qtensor<8x256, #qc.gguf<"MXFP4">> -> tensor<?x8xf32>
    %4 = arith.addf %1, %3 : tensor<?x8xf32>
    return %4 : tensor<?x8xf32>
  }
}
