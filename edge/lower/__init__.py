"""Lowering a deployable module to each runtime's file: ExecuTorch (.pte), LiteRT (.tflite), ONNX (.onnx)."""
