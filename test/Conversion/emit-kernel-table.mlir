// RUN: quant-opt %s --qc-lower-to-llvm-pipeline="target=generic weights=/models/w.safetensors" | FileCheck %s
// RUN: quant-opt %s --qc-lower-to-llvm-pipeline="target=avx512vnni" | FileCheck %s --check-prefix=DEFAULT

// After lowering to the LLVM dialect, the table lists every kernel's key and
// C-interface wrapper, and the weights archive (option, else qc.weights).
// CHECK-DAG: llvm.mlir.global internal constant @qc_kernel_key_0("Q8_0:2x32\00")
// CHECK-DAG: llvm.mlir.global internal constant @qc_kernel_key_1("F32:3x32\00")
// CHECK-DAG: llvm.mlir.global internal constant @qc_weights_path("/models/w.safetensors\00")
// CHECK-DAG: llvm.func @_mlir_ciface_qc_linear_0(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: i64, %{{.+}}: i64, %{{.+}}: i64)
// CHECK: llvm.mlir.global internal constant @qc_kernels() {{.*}} : !llvm.array<2 x struct<(ptr, ptr)>>
// CHECK: llvm.mlir.addressof @qc_kernel_key_0
// CHECK: llvm.mlir.addressof @_mlir_ciface_qc_linear_0
// CHECK: llvm.mlir.global external constant @qc_compiled_kernels() {{.*}} : !llvm.struct<(i64, i64, ptr, ptr, ptr)>
// The runtime ABI version, then the kernel count.
// CHECK: llvm.mlir.constant(4 : i64) : i64
// CHECK: llvm.mlir.constant(2 : i64) : i64
// CHECK-NOT: vector.
// CHECK-NOT: scf.
// CHECK-NOT: memref.
// DEFAULT-DAG: llvm.mlir.global internal constant @qc_kernel_key_0("Q8_0:2x32@q8\00")
// DEFAULT-DAG: llvm.mlir.global internal constant @qc_weights_path("w.safetensors\00")
// DEFAULT-DAG: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.256"
// DEFAULT-DAG: llvm.mlir.global internal constant @qc_kernel_key_2("quantize_q8:32\00")
module attributes {qc.weights = "w.safetensors"} {
  func.func @graph(%x: tensor<?x32xf32>) -> tensor<?x3xf32> {
    %0 = qc.param "q" : !qc.qtensor<2x32, #qc.gguf<"Q8_0">>
    %1 = qc.param "f" : tensor<3x32xf32>
    %2 = qc.linear %x, %0 : tensor<?x32xf32>, !qc.qtensor<2x32, #qc.gguf<"Q8_0">> -> tensor<?x2xf32>
    %3 = qc.linear %x, %1 : tensor<?x32xf32>, tensor<3x32xf32> -> tensor<?x3xf32>
    return %3 : tensor<?x3xf32>
  }
}
