"""Transports between the stages: Redis Streams keys, payload codecs and connections."""
