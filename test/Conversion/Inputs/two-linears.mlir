module attributes {qc.weights = "w.safetensors"} {
  func.func @graph(%x: tensor<?x32xf32>) -> tensor<?x3xf32> {
    %0 = qc.param "q" : !qc.qtensor<2x32, #qc.gguf<"Q8_0">>
    %1 = qc.param "f" : tensor<3x32xf32>
    %2 = qc.linear %x, %0 : tensor<?x32xf32>, !qc.qtensor<2x32, #qc.gguf<"Q8_0">> -> tensor<?x2xf32>
    %3 = qc.linear %x, %1 : tensor<?x32xf32>, tensor<3x32xf32> -> tensor<?x3xf32>
    return %3 : tensor<?x3xf32>
  }
}
