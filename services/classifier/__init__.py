"""The emotion classifier: an ONNX Runtime engine, and (in the services) its gRPC server."""
