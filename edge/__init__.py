"""Lowering to ExecuTorch, LiteRT and ONNX; the bundle and its manifest; runtime loaders; the CLI."""
