"""homophones package of embedding-audit."""
