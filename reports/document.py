"""A tiny document model rendered two ways: Markdown and one self-contained HTML page.

Sections build a list of blocks (headings, paragraphs, tables, figures, verdict cards) from
result dicts; :func:`to_markdown` and :func:`to_html` turn the same list into text. Every
string that may come from an input (words, file names, reasons) is escaped here, at the one
place where text meets markup, so no section can forget it.
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass, field
from typing import Sequence


@dataclass(frozen=True)
class Number:
    """A number taken from a result field, with how many decimals to show."""

    value: float | int | None
    digits: int = 3
    small: bool = False     # a value below 10**-digits (a p-value) in scientific notation, not as 0.000

    def text(self) -> str:
        value = self.value
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "-"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int):
            return f"{value:,}"
        if self.small and value == 0:
            return "< 1e-300"        # a p-value that underflowed double precision (none is exactly 0)
        if self.small and abs(value) < 0.5 * 10 ** -self.digits:
            return f"{value:.2e}"
        return f"{value:.{self.digits}f}"



@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2
    anchor: str = ""


@dataclass(frozen=True)
class Paragraph:
    text: str
    emphasis: bool = False


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    name: str          # file stem under figures/
    svg: str           # the SVG document text
    caption: str


@dataclass(frozen=True)
class Card:
    """A verdict card: a title, a verdict word, its reason and a few labelled facts."""

    title: str
    verdict: str
    reason: str
    facts: Sequence[tuple[str, object]] = field(default_factory=tuple)


@dataclass(frozen=True)
class FindingLine:
    """One finding of the reality check: its title, status, sentence and the section that backs it."""

    title: str
    status: str          # supported | not supported | not tested
    sentence: str
    anchor: str = ""     # the backing section's anchor ("" = no section in this report)
    section: str = ""    # the section's heading text, for the link


def cell_text(value: object) -> str:
    if isinstance(value, Number):
        return value.text()
    if value is None:
        return "-"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Number(value).text()
    return str(value)


# ------------------------------------------------------------------------------ Markdown
_MD_SPECIAL = "\\`*_[]<>|#&"   # & too: "a&amp;b" would render as "a&b"


def md_escape(text: str) -> str:
    """Backslash-escape Markdown punctuation so an input string renders as literal text."""
    text = " ".join(str(text).split("\n"))
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in text)


def to_markdown(title: str, blocks: Sequence[object]) -> str:
    lines = [f"# {md_escape(title)}", ""]
    for block in blocks:
        if isinstance(block, Heading):
            lines += ["#" * block.level + " " + md_escape(block.text), ""]
        elif isinstance(block, Paragraph):
            text = md_escape(block.text)
            lines += [f"*{text}*" if block.emphasis else text, ""]
        elif isinstance(block, Table):
            lines += _md_table(block)
        elif isinstance(block, Figure):
            lines += [f"![{md_escape(block.caption)}](figures/{block.name}.svg)", "",
                      f"*{md_escape(block.caption)}*", ""]
        elif isinstance(block, Card):
            lines += [f"**{md_escape(block.title)}: {md_escape(block.verdict)}**", ""]
            if block.reason:
                lines += [md_escape(block.reason), ""]
            lines += [f"- {md_escape(label)}: {md_escape(cell_text(value))}" for label, value in block.facts]
            lines.append("")
        elif isinstance(block, FindingLine):
            link = f" ([{md_escape(block.section)}](#{block.anchor}))" if block.anchor else ""
            lines += [f"- **{md_escape(block.title)}: {md_escape(block.status)}.** {md_escape(block.sentence)}{link}",
                      ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_table(table: Table) -> list[str]:
    header = "| " + " | ".join(md_escape(h) for h in table.headers) + " |"
    rule = "|" + "|".join("---" for _ in table.headers) + "|"
    body = ["| " + " | ".join(md_escape(cell_text(c)) for c in row) + " |" for row in table.rows]
    out = [header, rule, *body, ""]
    if table.caption:
        out += [f"*{md_escape(table.caption)}*", ""]
    return out


# ------------------------------------------------------------------------------ HTML
def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


# The page loads nothing: styles are inline, figures are data URIs, and the policy below
# forbids scripts and any network fetch, so the file reads the same offline and from disk.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;
padding:0 1rem;color:#1b1b1b;background:#fff;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}
.wide{overflow-x:auto;max-width:100%}
th,td{border:1px solid #d4d4d4;padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:bottom;text-align:left;color:#555;font-size:.82rem;padding-top:.3rem}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.85rem}
.cards{display:flex;flex-wrap:wrap;gap:1rem}
.card{border:1px solid #ccc;border-radius:.5rem;padding:.8rem 1rem;flex:1 1 20rem;background:#fafafa}
.card h3{margin:.1rem 0 .4rem 0;font-size:1.05rem;word-break:break-all}
.verdict{display:inline-block;font-weight:600;padding:.1rem .5rem;border-radius:.3rem;background:#e5e7eb}
.verdict.phonetic{background:#d1fae5}.verdict.non-phonetic{background:#fee2e2}
.verdict.inconclusive{background:#fef3c7}.verdict.partly-phonetic{background:#e0e7ff}
.card ul{margin:.5rem 0 0 0;padding-left:1.1rem;font-size:.88rem}
.note{color:#555;font-style:italic}
ul.findings{padding-left:1.1rem}ul.findings li{margin:.35rem 0}
.status{display:inline-block;font-weight:600;padding:0 .45rem;border-radius:.3rem;background:#e5e7eb}
.supported .status{background:#d1fae5}.not-supported .status{background:#fee2e2}
.not-tested .status{background:#fef3c7}
"""


def to_html(title: str, blocks: Sequence[object]) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{esc(title)}</title>", f"<style>{_CSS.strip()}</style>", "</head>", "<body>",
             f"<h1>{esc(title)}</h1>"]
    index = 0
    while index < len(blocks):
        block = blocks[index]
        if isinstance(block, Card):
            cards = []
            while index < len(blocks) and isinstance(blocks[index], Card):
                cards.append(_html_card(blocks[index]))
                index += 1
            parts.append('<div class="cards">' + "".join(cards) + "</div>")
            continue
        if isinstance(block, FindingLine):
            lines = []
            while index < len(blocks) and isinstance(blocks[index], FindingLine):
                lines.append(_html_finding(blocks[index]))
                index += 1
            parts.append('<ul class="findings">' + "".join(lines) + "</ul>")
            continue
        parts.append(_html_block(block))
        index += 1
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _html_block(block: object) -> str:
    if isinstance(block, Heading):
        anchor = f' id="{esc(block.anchor)}"' if block.anchor else ""
        return f"<h{block.level}{anchor}>{esc(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        cls = ' class="note"' if block.emphasis else ""
        return f"<p{cls}>{esc(block.text)}</p>"
    if isinstance(block, Table):
        return _html_table(block)
    if isinstance(block, Figure):
        data = base64.b64encode(block.svg.encode("utf-8")).decode("ascii")
        return (f'<figure><img alt="{esc(block.caption)}" src="data:image/svg+xml;base64,{data}">'
                f"<figcaption>{esc(block.caption)}</figcaption></figure>")
    raise TypeError(f"unknown block {type(block).__name__}")


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in table.headers)
    rows = []
    for row in table.rows:
        cells = []
        for value in row:
            numeric = isinstance(value, Number) or (isinstance(value, (int, float)) and not isinstance(value, bool))
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{esc(cell_text(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<caption>{esc(table.caption)}</caption>" if table.caption else ""
    # in a scrolling box: a table wider than the page (five embeddings' columns) scrolls by itself
    # instead of widening the whole page
    return (f'<div class="wide"><table>{caption}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
            f"</table></div>")


def _html_finding(line: FindingLine) -> str:
    status_class = "".join(ch if ch.isalnum() else "-" for ch in line.status.lower())
    link = f' <a href="#{esc(line.anchor)}">{esc(line.section)}</a>' if line.anchor else ""
    return (f'<li class="finding {status_class}"><b>{esc(line.title)}</b> '
            f'<span class="status">{esc(line.status)}</span> {esc(line.sentence)}{link}</li>')


def _html_card(card: Card) -> str:
    verdict_class = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in card.verdict.lower())
    facts = "".join(f"<li>{esc(label)}: <b>{esc(cell_text(value))}</b></li>" for label, value in card.facts)
    reason = f"<p>{esc(card.reason)}</p>" if card.reason else ""
    return (f'<section class="card"><h3>{esc(card.title)}</h3>'
            f'<span class="verdict {verdict_class}">{esc(card.verdict)}</span>{reason}<ul>{facts}</ul></section>')
