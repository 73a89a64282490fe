"""reports package of embedding-audit."""
