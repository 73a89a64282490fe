"""The 13 word-similarity benchmarks of wordvectors.org, as validated literal entries.

Entries are in the order of the Speech2Vec reality-check paper's Table 7, which is the order
every table and result uses. The files themselves are never shipped: each entry records the
file name, its pair count and sha256 (of the file served by mfaruqui/eval-word-vectors), and
the canonical URL that ``audit data fetch benchmarks`` downloads from.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Iterator, Mapping

from audit.core.errors import AuditError

CANONICAL_BASE_URL = "https://raw.githubusercontent.com/mfaruqui/eval-word-vectors/master/data/word-sim/"
KINDS = ("similarity", "relatedness")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class BenchmarkSpec:
    """What a benchmark is: enough to find, verify, cite and interpret its file."""

    name: str                # the paper's display name, e.g. "SimLex-999"
    file: str                # file name in the wordvectors.org data folder
    pairs: int               # pair lines in that file
    sha256: str
    citation: str
    score_scale: tuple[float, float]   # the range the gold scores were collected on
    kind: str                # "similarity" or "relatedness": what the annotators were asked

    def __post_init__(self):
        # A misspelt entry must fail at import, not as a wrong number later.
        if not self.name or not self.file.endswith((".txt", ".tsv")):
            raise ValueError(f"benchmark entry {self.name!r}: bad name or file {self.file!r}")
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"benchmark entry {self.name!r}: sha256 must be 64 lowercase hex digits")
        if self.pairs < 1:
            raise ValueError(f"benchmark entry {self.name!r}: pair count must be positive")
        if self.kind not in KINDS:
            raise ValueError(f"benchmark entry {self.name!r}: kind must be one of {KINDS}")
        low, high = self.score_scale
        if not low < high:
            raise ValueError(f"benchmark entry {self.name!r}: score scale must be (low, high)")
        if not self.citation:
            raise ValueError(f"benchmark entry {self.name!r}: a citation is required")

    @property
    def url(self) -> str:
        return CANONICAL_BASE_URL + self.file


_ENTRIES = (
    BenchmarkSpec("MC-30", "EN-MC-30.txt", 30,
                  "33ee05911496ff83d95cac351d0746c6f63b9181b605cb7d307f4daa8864511b",
                  "George A. Miller and Walter G. Charles. Contextual correlates of semantic similarity. "
                  "Language and Cognitive Processes 6(1):1-28, 1991.",
                  (0.0, 4.0), "similarity"),
    BenchmarkSpec("MEN", "EN-MEN-TR-3k.txt", 3000,
                  "888b13580faa362c7b11da0a670258cf1b1eb4bf0ecbcd418918729a3bd3f43a",
                  "Elia Bruni, Gemma Boleda, Marco Baroni and Nam-Khanh Tran. Distributional semantics in "
                  "technicolor. ACL 2012.",
                  (0.0, 50.0), "relatedness"),
    BenchmarkSpec("MTurk-287", "EN-MTurk-287.txt", 287,
                  "a9ae3a9decb75a9700fe0cf18b048c1344774d9f40e0196baf8e34d4cd9d1ce5",
                  "Kira Radinsky, Eugene Agichtein, Evgeniy Gabrilovich and Shaul Markovitch. A word at a "
                  "time: computing word relatedness using temporal semantic analysis. WWW 2011.",
                  (1.0, 5.0), "relatedness"),
    BenchmarkSpec("MTurk-771", "EN-MTurk-771.txt", 771,
                  "04dc297c9e86b6fa7cf8ef0e4ba2e2c8d3399ec68d92fb7a53c0b4aae27198b5",
                  "Guy Halawi, Gideon Dror, Evgeniy Gabrilovich and Yehuda Koren. Large-scale learning of "
                  "word relatedness with constraints. KDD 2012.",
                  (1.0, 5.0), "relatedness"),
    BenchmarkSpec("RG-65", "EN-RG-65.txt", 65,
                  "c243f3a91c3f5d8cf67f21a67f6fb80bde8b6bb060851a6a48e6f2d68ec98c9f",
                  "Herbert Rubenstein and John B. Goodenough. Contextual correlates of synonymy. "
                  "Communications of the ACM 8(10):627-633, 1965.",
                  (0.0, 4.0), "similarity"),
    BenchmarkSpec("Rare-Word", "EN-RW-STANFORD.txt", 2034,
                  "5108d54dfc746f44f9c3d7e31d2857c37cf71430bc1594175a61a3b89bb0ae1f",
                  "Minh-Thang Luong, Richard Socher and Christopher D. Manning. Better word representations "
                  "with recursive neural networks for morphology. CoNLL 2013.",
                  (0.0, 10.0), "similarity"),
    BenchmarkSpec("SimLex-999", "EN-SIMLEX-999.txt", 999,
                  "405394ffb7d25f6d0e3c041f87c9f27d29dc6b047506769953e85c4523b11685",
                  "Felix Hill, Roi Reichart and Anna Korhonen. SimLex-999: Evaluating semantic models with "
                  "(genuine) similarity estimation. Computational Linguistics 41(4):665-695, 2015.",
                  (0.0, 10.0), "similarity"),
    BenchmarkSpec("SimVerb-3500", "EN-SimVerb-3500.txt", 3500,
                  "9d84274e7ad029fd3cf69dd0516e9ade624bbef9bd4e2050f6cc1fa01471e0f5",
                  "Daniela Gerz, Ivan Vulic, Felix Hill, Roi Reichart and Anna Korhonen. SimVerb-3500: "
                  "A large-scale evaluation set of verb similarity. EMNLP 2016.",
                  (0.0, 10.0), "similarity"),
    # The served file has 144 pairs although the benchmark is called Verb-143.
    BenchmarkSpec("Verb-143", "EN-VERB-143.txt", 144,
                  "7259e19961c81912aa4c72de0102e480b2ad2bb9f4ce97d036fbde8e1a403001",
                  "Simon Baker, Roi Reichart and Anna Korhonen. An unsupervised model for instance level "
                  "subcategorization acquisition. EMNLP 2014.",
                  (0.0, 1.0), "similarity"),
    # WS-353 rates relatedness and similarity together; Agirre et al. split it into -REL and -SIM.
    BenchmarkSpec("WS-353", "EN-WS-353-ALL.txt", 353,
                  "ce12919b240af45bdf46d243601eaca2b6212b159b5e7e9b435ee7ee40c5619c",
                  "Lev Finkelstein, Evgeniy Gabrilovich, Yossi Matias, Ehud Rivlin, Zach Solan, Gadi "
                  "Wolfman and Eytan Ruppin. Placing search in context: the concept revisited. "
                  "ACM Transactions on Information Systems 20(1):116-131, 2002.",
                  (0.0, 10.0), "relatedness"),
    BenchmarkSpec("WS-353-REL", "EN-WS-353-REL.txt", 252,
                  "66a7c88100624d0a391605ff61ce84e11d11ee620d51ec0298da49592838f8fa",
                  "Eneko Agirre, Enrique Alfonseca, Keith Hall, Jana Kravalova, Marius Pasca and Aitor "
                  "Soroa. A study on similarity and relatedness using distributional and WordNet-based "
                  "approaches. NAACL-HLT 2009.",
                  (0.0, 10.0), "relatedness"),
    BenchmarkSpec("WS-353-SIM", "EN-WS-353-SIM.txt", 203,
                  "f1da938998863c94e53f72f984a5c6e215f0b46c323aae8f0f4930703a339107",
                  "Eneko Agirre, Enrique Alfonseca, Keith Hall, Jana Kravalova, Marius Pasca and Aitor "
                  "Soroa. A study on similarity and relatedness using distributional and WordNet-based "
                  "approaches. NAACL-HLT 2009.",
                  (0.0, 10.0), "similarity"),
    BenchmarkSpec("YP-130", "EN-YP-130.txt", 130,
                  "7643fdbc6158c3424061e2cba450c71285767266ff9f3db947bfc1f1f5ce67ab",
                  "Dongqiang Yang and David M. W. Powers. Verb similarity on the taxonomy of WordNet. "
                  "Global WordNet Conference (GWC) 2006.",
                  (0.0, 4.0), "similarity"),
)


class UnknownBenchmarkError(AuditError, KeyError):
    """An unknown benchmark name (a KeyError too, so ``in`` and ``.get`` work on the registry)."""

    def __str__(self) -> str:  # KeyError would quote the sentence
        return str(self.args[0]) if self.args else ""


class BenchmarkRegistry(Mapping[str, BenchmarkSpec]):
    """Display name -> spec, iterated in the paper's order.

    Lookup ignores case, spaces, hyphens and underscores and also accepts the file name
    (``simlex999``, ``EN-SIMLEX-999.txt``);
    an unknown name gets a "did you mean".
    """

    def __init__(self, entries: Iterable[BenchmarkSpec]):
        by_name: dict[str, BenchmarkSpec] = {}
        aliases: dict[str, str] = {}
        for spec in entries:
            for alias in (_alias(spec.name), _alias(spec.file), _alias(spec.file.removesuffix(".txt"))):
                if aliases.setdefault(alias, spec.name) != spec.name:
                    raise ValueError(f"benchmark alias {alias!r} is used twice")
            by_name[spec.name] = spec
        self._by_name = MappingProxyType(by_name)
        self._aliases = MappingProxyType(aliases)

    def __getitem__(self, name: str) -> BenchmarkSpec:
        canonical = self._aliases.get(_alias(str(name)))
        if canonical is None:
            close = difflib.get_close_matches(_alias(str(name)), list(self._aliases), n=1, cutoff=0.5)
            hint = f"; did you mean {self._aliases[close[0]]}?" if close else "."
            raise UnknownBenchmarkError(f"there is no benchmark called {name!r} "
                                        f"(known: {', '.join(self._by_name)}){hint}")
        return self._by_name[canonical]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def specs(self) -> tuple[BenchmarkSpec, ...]:
        return tuple(self._by_name.values())

    def select(self, only: str | Iterable[str] | None = None) -> tuple[BenchmarkSpec, ...]:
        """The specs named in ``only`` (a list or a comma-separated string), in registry order."""
        if only is None:
            return self.specs()
        names = [n for n in (only.split(",") if isinstance(only, str) else only) if str(n).strip()]
        if not names:
            raise AuditError("no benchmark was named; give names such as MEN,SimLex-999.")
        wanted = {self[n].name for n in names}
        return tuple(spec for spec in self._by_name.values() if spec.name in wanted)


def _alias(name: str) -> str:
    """Lookup key: case, spaces, hyphens and underscores do not matter (ws353 = WS-353)."""
    return re.sub(r"[\s_\-]+", "", name).lower()


REGISTRY = BenchmarkRegistry(_ENTRIES)


# ------------------------------------------------------------------------------ offline copies
@dataclass(frozen=True)
class OfflineCopy:
    """A copy of one benchmark shipped inside an installed package, used when the wordvectors.org
    files are absent. Its own entry: results and reports name it ``spec.name`` (``... (gensim test
    copy)``), never the benchmark's own name, and its file is checked against its own sha256."""

    spec: BenchmarkSpec      # name, file (relative to the package), pairs, sha256, citation
    copy_of: str             # the registry entry it copies (its paper figures are shown beside)
    package: str             # the installed package that ships it
    comment_prefix: str = "#"   # header lines of the copy start with this

    def __post_init__(self):
        REGISTRY[self.copy_of]   # an unknown benchmark fails at import


_GENSIM = "Shipped in gensim's test data (gensim/test/test_data/), the copy gensim's own evaluate_word_pairs tests use. "
OFFLINE_COPIES = (
    OfflineCopy(BenchmarkSpec("WS-353 (gensim test copy)", "test/test_data/wordsim353.tsv", 353,
                              "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d",
                              _GENSIM + REGISTRY["WS-353"].citation, (0.0, 10.0), "relatedness"),
                copy_of="WS-353", package="gensim"),
    OfflineCopy(BenchmarkSpec("SimLex-999 (gensim test copy)", "test/test_data/simlex999.txt", 999,
                              "d5e0501971478a511430ee880bd0121e94ac701ba86d90544d83e6d2ba3db05d",
                              _GENSIM + REGISTRY["SimLex-999"].citation, (0.0, 10.0), "similarity"),
                copy_of="SimLex-999", package="gensim"),
)
