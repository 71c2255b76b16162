// RUN: quant-opt %s -split-input-file --qc-emit-kernel-table="weights=/w.safetensors features=avx2,fma" -verify-diagnostics | FileCheck %s

// The pass alone, on kernels already in the LLVM dialect: one entry per
// kernel (its C-interface wrapper, not the wrapper's own copy of the key),
// the weights and the required features.
// CHECK-DAG: llvm.mlir.global internal constant @qc_kernel_key_0("Q4_0:8x32\00")
// CHECK-DAG: llvm.mlir.global internal constant @qc_weights_path("/w.safetensors\00")
// CHECK-DAG: llvm.mlir.global internal constant @qc_required_features("avx2,fma\00")
// CHECK: !llvm.array<1 x struct<(ptr, ptr)>>
// CHECK: llvm.mlir.addressof @_mlir_ciface_qc_linear_0
module {
  llvm.func @qc_linear_0() attributes {qc.kernel = "Q4_0:8x32"} {
    llvm.return
  }
  llvm.func @_mlir_ciface_qc_linear_0() attributes {qc.kernel = "Q4_0:8x32"} {
    llvm.return
  }
}

// -----

// A kernel without its C interface cannot be listed.
module {
  // expected-error @+1 {{kernel has no C interface '_mlir_ciface_qc_linear_1'}}
  llvm.func @qc_linear_1() attributes {qc.kernel = "Q8_0:1x32"} {
    llvm.return
  }
}
