"""reproductions package of embedding-audit."""
