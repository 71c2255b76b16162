// RUN: quant-opt %s -split-input-file --qc-lower-graph-ops -verify-diagnostics
// RUN: not quant-opt %s -split-input-file --qc-lower-graph-ops=kv-type=q4 2>&1 | FileCheck %s --check-prefix=KV

// KV: qc-lower-graph-ops: kv-type must be f16, f32 or q8, got 'q4'

func.func @gelu(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{qc-lower-graph-ops: qc.gelu has no CPU lowering yet}}
  %0 = qc.gelu %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @lone_silu(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{qc-lower-graph-ops: qc.silu must feed one arith.mulf (SwiGLU)}}
  %0 = qc.silu %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Two norms of one width but different epsilons would share a kernel.
func.func @two_epsilons(%x: tensor<?x8xf32>, %w: tensor<8xf32>) -> tensor<?x8xf32> {
  %0 = qc.rms_norm %x, %w {epsilon = 1.0e-05 : f32} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  // expected-error @+1 {{qc-lower-graph-ops: kernel 'rms_norm:8' is needed with epsilon 9.99999997e-07 and with epsilon 9.99999975e-06}}
  %1 = qc.rms_norm %0, %w {epsilon = 1.0e-06 : f32} : tensor<?x8xf32>, tensor<8xf32> -> tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}
