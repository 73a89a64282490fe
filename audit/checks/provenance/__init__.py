"""Model provenance: text reference models trained on a corpus, and how closely an embedding
resembles each family of references."""
