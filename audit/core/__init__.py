"""The ground floor: errors, the ``Vectors`` object, loaders, typed results, data dirs, strict
.npz reading and the reality-check paper's tables. Imports nothing else of the project."""
