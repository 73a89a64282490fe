"""embedding-audit: reproducibility audits for published word embeddings.

Layers, lowest first: ``audit.core`` <- {``audit.speech``, ``audit.corpora``, ``reports``} <-
{``audit.checks``, ``homophones``, ``benchmarks``} <- ``reproductions`` <- ``audit.pipeline`` <-
``audit.cli``. The top level re-exports the core's entry points: ``load``, ``Vectors``, ``AuditError``.
"""

from audit.core.errors import AuditError  # noqa: E402
from audit.core.results import __version__  # noqa: E402
from audit.core.vectors import SourceInfo, Vectors  # noqa: E402
from audit.core.loaders import load  # noqa: E402

__all__ = ["AuditError", "SourceInfo", "Vectors", "load", "__version__"]
