// RUN: quant-opt %s -split-input-file --qc-lower-graph-ops | FileCheck %s
// RUN: quant-opt %s -split-input-file --qc-lower-graph-ops=kv-type=f32 | FileCheck %s --check-prefix=F32
// RUN: quant-opt %s -split-input-file --qc-lower-graph-ops=kv-type=q8 | FileCheck %s --check-prefix=Q8

// One kernel per (operation, shape): the two RMS norms share one, and so do
// both RoPEs' tables. The graph function itself stays (qc-lower-to-cpu
// removes it after making the product kernels).
// CHECK-LABEL: func.func @layer
// CHECK: qc.rms_norm
// CHECK: func.func @qc_graph_0(%{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: index) attributes {llvm.emit_c_interface, qc.kernel = "rms_norm:64"}
// CHECK-DAG: arith.constant 9.99999974E-6 : f32
// CHECK-DAG: arith.constant 6.400000e+01 : f32
// CHECK: scf.for
// CHECK: vector.load %{{.+}} : memref<?xf32>, vector<16xf32>
// CHECK: math.fma
// CHECK: vector.reduction <add>
// CHECK: math.sqrt
// CHECK: vector.store
// The table: cos and sin of (pos + t) * theta^(-2i/8) (1, 0.1, 0.01, 0.001).
// CHECK: func.func @qc_graph_1(%{{.+}}: memref<?xf32>, %{{.+}}: index, %{{.+}}: index) attributes {llvm.emit_c_interface, qc.kernel = "rope_table:8"}
// CHECK-DAG: arith.constant 1.000000e-03 : f32
// CHECK-DAG: arith.constant 0.00999999977 : f32
// CHECK-DAG: arith.constant 1.000000e-01 : f32
// CHECK: math.cos
// CHECK: math.sin
// Adjacent pairs (llama): elements 2i and 2i + 1 of each 8-wide head.
// CHECK: func.func @qc_graph_2({{.*}}qc.kernel = "rope:64:8"}
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %c8
// CHECK: func.func @qc_graph_3({{.*}}qc.kernel = "rope:32:8"}
// The cache narrowed to f16 on the way in, widened on the way out.
// CHECK: func.func @qc_graph_4(%{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf16>, %{{.+}}: memref<?xf16>, %{{.+}}: index, %{{.+}}: index) attributes {llvm.emit_c_interface, qc.kernel = "kv_store:32:f16"}
// CHECK: arith.truncf %{{.+}} : vector<16xf32> to vector<16xf16>
// Attention: 8 heads over 4 KV heads (group of 2), scale 1/sqrt(8), a
// running maximum, then exp (by polynomial: no math.exp left) and the
// weighted values.
// CHECK: func.func @qc_graph_5(%{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf16>, %{{.+}}: memref<?xf16>, %{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>, %{{.+}}: index, %{{.+}}: index, %{{.+}}: index) attributes {llvm.emit_c_interface, qc.kernel = "attention:8:4:8:f16"}
// CHECK-DAG: arith.constant 0.353553385 : f32
// CHECK-DAG: arith.constant 0xFF800000 : f32
// CHECK: arith.divui %{{.+}}, %c2 : index
// CHECK: arith.extf %{{.+}} : vector<8xf16> to vector<8xf32>
// CHECK: arith.maximumf
// CHECK-NOT: math.exp
// CHECK: math.floor
// CHECK: math.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<8xf32>
// CHECK: vector.store %{{.+}} : memref<?xf32>, vector<8xf32>
// SwiGLU and the residual add, element-wise as linalg.generic in place.
// CHECK: func.func @qc_graph_6(%{{.+}}: memref<?xf32>, %{{.+}}: memref<?xf32>) attributes {llvm.emit_c_interface, qc.kernel = "swiglu"}
// CHECK: linalg.generic {{.*}} ins(%arg1 : memref<?xf32>) outs(%arg0 : memref<?xf32>)
// CHECK-NOT: math.exp
// CHECK: arith.divf
// CHECK: arith.mulf
// CHECK: linalg.yield
// CHECK: func.func @qc_graph_7({{.*}}qc.kernel = "add"}
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK-NOT: func.func
// F32: qc.kernel = "kv_store:32:f32"
// F32-NOT: arith.truncf
// F32: qc.kernel = "attention:8:4:8:f32"
// F32-NOT: arith.extf
// F32: qc.kernel = "swiglu"
// A q8 cache row: 32 int8 codes, then one f32 scale (4 bytes) per KV head
// (36 + 16 = 48 bytes a position): max |x| / 127, round to even.
// Q8: qc.kernel = "kv_store:32:q8"
// Q8: arith.muli %{{.+}}, %c48 : index
// Q8: vector.reduction <maximumf>
// Q8: math.roundeven %{{.+}} : vector<8xf32>
// Q8: arith.fptosi %{{.+}} : vector<8xf32> to vector<8xi8>
// Q8: vector.bitcast %{{.+}} : vector<1xf32> to vector<4xi8>
// Q8: qc.kernel = "attention:8:4:8:q8"
// Q8: arith.sitofp %{{.+}} : vector<8xi8> to vector<8xf32>
// Q8: vector.bitcast %{{.+}} : vector<4xi8> to vector<1xf32>
!cache = !qc.kv_cache<positions = 16, kv_heads = 4, head_dim = 8, element_type = f16>
func.func @layer(%x: tensor<?x64xf32>, %pos: index, %c: !cache, %w: tensor<64xf32>,
                 %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %g: tensor<?x64xf32>)
    -> (tensor<?x64xf32>, !cache) {
  %n = qc.rms_norm %x, %w {epsilon = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  %q = qc.rope %n at %pos {head_dim = 8 : i64, theta = 1.0e+04 : f32} : tensor<?x64xf32>
  %kr = qc.rope %k at %pos {head_dim = 8 : i64, theta = 1.0e+04 : f32} : tensor<?x32xf32>
  %a, %c1 = qc.attention %q, %kr, %v, %c at %pos {heads = 8 : i64}
      : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, !cache -> tensor<?x64xf32>, !cache
  %s = qc.silu %g : tensor<?x64xf32>
  %m = arith.mulf %s, %a : tensor<?x64xf32>
  %r = arith.addf %x, %m : tensor<?x64xf32>
  %n2 = qc.rms_norm %r, %w {epsilon = 1.0e-05 : f32} : tensor<?x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  return %n2, %c1 : tensor<?x64xf32>, !cache
}

// -----

// GPT-NeoX pairs (Qwen2): elements i and i + 4 of each 8-wide head; a
// 12-wide norm takes 4-lane vectors; an explicit attention scale is baked in.
// CHECK-LABEL: func.func @neox
// CHECK: qc.kernel = "rms_norm:12"
// CHECK: vector.load %{{.+}} : memref<?xf32>, vector<4xf32>
// CHECK: qc.kernel = "rope:16:8:neox"
// CHECK: qc.kernel = "attention:2:1:8:f32"
// CHECK: arith.constant 2.500000e-01 : f32
!c32 = !qc.kv_cache<positions = 4, kv_heads = 1, head_dim = 8, element_type = f32>
func.func @neox(%x: tensor<?x12xf32>, %w: tensor<12xf32>, %q: tensor<?x16xf32>, %k: tensor<?x8xf32>,
                %pos: index, %c: !c32) -> (tensor<?x12xf32>, tensor<?x16xf32>, !c32) {
  %n = qc.rms_norm %x, %w {epsilon = 1.0e-06 : f32} : tensor<?x12xf32>, tensor<12xf32> -> tensor<?x12xf32>
  %r = qc.rope %q at %pos {head_dim = 8 : i64, theta = 1.0e+06 : f32, neox} : tensor<?x16xf32>
  %a, %c1 = qc.attention %r, %k, %k, %c at %pos {heads = 2 : i64, scale = 0.25 : f32}
      : tensor<?x16xf32>, tensor<?x8xf32>, tensor<?x8xf32>, !c32 -> tensor<?x16xf32>, !c32
  return %n, %a, %c1 : tensor<?x12xf32>, tensor<?x16xf32>, !c32
}
