"""embedding-audit: reproducibility audits for published word embeddings.

The core (this package minus :mod:`audit.cli` and :mod:`audit.commands`) imports none of the
sibling packages and never imports torch, so auditing a file stays light.
"""

__version__ = "0.1.0"

from audit.errors import AuditError  # noqa: E402
from audit.vectors import SourceInfo, Vectors  # noqa: E402
from audit.loaders import load  # noqa: E402

__all__ = ["AuditError", "SourceInfo", "Vectors", "load", "__version__"]
