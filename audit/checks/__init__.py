"""Checks over embeddings and spoken instances: info, vocabulary provenance, acoustic metrics,
model provenance and the MDS of spoken instances. Each returns a typed result."""
