"""Word alignments: where each word of an utterance starts and ends, in seconds.

Two formats are read (pure Python, no audio libraries):

- the public *librispeech-alignments* release (CorentinJ/librispeech-alignments, made with the
  Montreal Forced Aligner): one ``<speaker>-<chapter>.alignment.txt`` per chapter, one line per
  utterance::

      84-121123-0000 ",GO,,DO,YOU," "0.490,0.890,1.270,1.380,1.490"

  The second field lists the words (an empty word is silence), the third the *end* time of
  each; a word starts where the previous one ended (the first at 0).
- Montreal Forced Aligner TextGrids (long or short text format): the interval tier named
  ``words`` (the first interval tier when there is none by that name); empty intervals are
  silence.

Both give :class:`WordSpan` lists. Silence is kept out unless ``keep_silence=True``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from audit.core.errors import AuditError


@dataclass(frozen=True)
class WordSpan:
    """One aligned word: ``start`` and ``end`` in seconds; ``word == ""`` is silence."""

    word: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


# ----------------------------------------------------------------------- librispeech-alignments
def parse_alignment_line(line: str, *, keep_silence: bool = False, where: str = "") -> tuple[str, list[WordSpan]]:
    """One line of a librispeech-alignments file: (utterance id, spans)."""
    parts = line.strip().split(" ")
    if len(parts) != 3 or not (parts[1].startswith('"') and parts[2].startswith('"')):
        raise AuditError(f"{where}is not a librispeech-alignments line (<utt-id> \",w1,w2,\" \"t1,t2\").")
    utterance, words_field, times_field = parts[0], parts[1].strip('"'), parts[2].strip('"')
    words = words_field.split(",")
    try:
        ends = [float(t) for t in times_field.split(",")]
    except ValueError:
        raise AuditError(f"{where}has an end time that is not a number.") from None
    if len(words) != len(ends):
        raise AuditError(f"{where}lists {len(words)} words but {len(ends)} end times.")
    spans, start = [], 0.0
    for word, end in zip(words, ends):
        if end < start:
            raise AuditError(f"{where}has end times that go backwards ({end} after {start}).")
        if word or keep_silence:
            spans.append(WordSpan(word, start, end))
        start = end
    return utterance, spans


def read_librispeech_alignments(path: str | os.PathLike, *, keep_silence: bool = False
                                ) -> dict[str, list[WordSpan]]:
    """All utterances of one ``<speaker>-<chapter>.alignment.txt`` file, in file order."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AuditError(f"cannot read the alignment file {path} ({exc.strerror}).") from None
    out: dict[str, list[WordSpan]] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        utterance, spans = parse_alignment_line(line, keep_silence=keep_silence, where=f"{path}: line {number} ")
        out[utterance] = spans
    return out


def format_alignment_line(utterance: str, spans: Iterable[WordSpan]) -> str:
    """The librispeech-alignments line for contiguous spans (silence as empty words).

    Gaps between consecutive spans are written as silence, so the first span need not start at 0.
    """
    words, ends, cursor = [], [], 0.0
    for span in spans:
        if span.start > cursor + 5e-4:
            words.append("")
            ends.append(span.start)
        if "," in span.word or " " in span.word or '"' in span.word:
            raise AuditError(f"the word {span.word!r} cannot be written in the librispeech-alignments format.")
        words.append(span.word)
        ends.append(span.end)
        cursor = span.end
    return f'{utterance} "{",".join(words)}" "{",".join(f"{t:.3f}" for t in ends)}"'


def write_librispeech_alignments(path: str | os.PathLike, utterances: Mapping[str, Iterable[WordSpan]]) -> Path:
    path = Path(path)
    lines = [format_alignment_line(utt, spans) for utt, spans in utterances.items()]
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


# ----------------------------------------------------------------------- Praat TextGrid (MFA)
# Quoted strings first (labels may hold brackets), then bracketed indices (``item [1]:``,
# skipped), then bare words and numbers.
_TOKEN = re.compile(r'"((?:[^"]|"")*)"|\[[^\]]*\]|([^\s=\[\]:]+)')


def _textgrid_tokens(text: str) -> list[str]:
    """Values of a TextGrid in order: quoted strings and numbers; names like ``xmin =`` dropped."""
    tokens = []
    for match in _TOKEN.finditer(text):
        quoted, bare = match.groups()
        if quoted is not None:
            tokens.append('"' + quoted.replace('""', '"'))
        elif bare is None:
            continue
        elif _is_number(bare) or bare in ("<exists>", "<absent>"):
            tokens.append(bare)
    return tokens


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_textgrid(path: str | os.PathLike, *, tier: str = "words", keep_silence: bool = False) -> list[WordSpan]:
    """The intervals of one tier of a Praat TextGrid (long or short format)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AuditError(f"cannot read the TextGrid {path} ({exc.strerror}).") from None
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8-sig")
    tiers = _parse_tiers(_textgrid_tokens(text), path)
    interval_tiers = [(name, items) for kind, name, items in tiers if kind == "IntervalTier"]
    if not interval_tiers:
        raise AuditError(f"{path} has no interval tier.")
    chosen = next((items for name, items in interval_tiers if name == tier), None)
    if chosen is None:
        chosen = interval_tiers[0][1]
    return [WordSpan(label, start, end) for start, end, label in chosen if label.strip() or keep_silence]


def _parse_tiers(tokens: list[str], path: Path):
    """Walk the value stream: file header, then per tier class, name, xmin, xmax, count, items."""
    def fail():
        raise AuditError(f"{path} is not a readable Praat TextGrid.")
    if len(tokens) < 2 or tokens[0] != '"ooTextFile' or tokens[1] != '"TextGrid':
        fail()
    pos = 2 + 2   # xmin, xmax of the grid
    try:
        if tokens[pos] != "<exists>":
            return []
        count = int(tokens[pos + 1])
        pos += 2
        tiers = []
        for _ in range(count):
            kind, name = tokens[pos][1:], tokens[pos + 1][1:]
            size = int(tokens[pos + 4])
            pos += 5
            items = []
            for _ in range(size):
                if kind == "IntervalTier":
                    items.append((float(tokens[pos]), float(tokens[pos + 1]), tokens[pos + 2][1:]))
                    pos += 3
                else:
                    items.append((float(tokens[pos]), float(tokens[pos]), tokens[pos + 1][1:]))
                    pos += 2
            tiers.append((kind, name, items))
    except (IndexError, ValueError):
        fail()
    return tiers
