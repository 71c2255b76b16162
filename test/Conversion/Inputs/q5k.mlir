module attributes {qc.weights = "w.safetensors"} {
  func.func @graph(%x: tensor<?x256xf32>) -> tensor<?x2xf32> {
    %0 = qc.param "k" : !qc.qtensor<2x256, #qc.gguf<"Q5_K">>
    %1 = qc.linear %x, %0 : tensor<?x256xf32>, !qc.qtensor<2x256, #qc.gguf<"Q5_K">> -> tensor<?x2xf32>
    return %1 : tensor<?x2xf32>
  }
}
