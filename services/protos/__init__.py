"""Generated protobuf/gRPC stubs of ``protos/emostream/v1`` (``make protos``; never edit by hand)."""
