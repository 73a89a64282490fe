"""Every user-controlled string that reaches the report is text, never markup (issue 18).

Hostile strings carry ``<``, ``>``, ``&``, ``"`` and ``'``. The page is read back with the
standard library's HTML parser (an independent reader of the markup): its tags and attributes
must be exactly the document's own, and every hostile string must come back intact as text or
as an attribute value. A caption left unescaped shows up as an extra tag; an attribute escaped
without its quotes shows up as an extra attribute.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from reports.document import (Card, Figure, FindingLine, Heading, Number, Paragraph, Table, esc, md_escape, to_html,
                              to_markdown)

HOSTILE = [
    '<script>alert("x")</script>',
    "a\" onmouseover='alert(1)' x=\"",
    "b' onfocus='alert(2)",
    '<img src=x onerror=alert(3)>',
    "Tom & Jerry's \"<b>bold</b>\"",
]
# the markup the document writes itself, and the attributes it sets
OWN_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "div", "section", "span", "p",
            "ul", "li", "b", "table", "caption", "thead", "tbody", "tr", "th", "td", "figure", "img",
            "figcaption", "a"}   # a: the findings' links to the report's own sections
OWN_ATTRIBUTES = {"lang", "charset", "http-equiv", "content", "name", "id", "class", "alt", "src", "href"}


class Reader(HTMLParser):
    """Collects tags, attributes (name, value) and text as a browser would parse them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value) for name, value in attrs]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        self.text.append(data)


def read(page: str) -> Reader:
    reader = Reader()
    reader.feed(page)
    reader.close()
    return reader


def blocks_with(hostile: str) -> tuple[str, list]:
    """A document where the hostile string is in every place a user string can reach."""
    return hostile, [
        Heading(hostile, anchor=hostile),
        Paragraph(hostile),
        Paragraph(hostile, emphasis=True),
        Table(headers=[hostile, "n"], rows=[[hostile, Number(1.5, 2)], [hostile, 3]], caption=hostile),
        Figure(name="fig", svg=f"<svg xmlns='http://www.w3.org/2000/svg'><text>{html.escape(hostile)}</text></svg>",
               caption=hostile),
        Card(title=hostile, verdict=hostile, reason=hostile, facts=((hostile, hostile), ("count", 7))),
    ]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_html_has_only_its_own_tags_and_attributes_and_the_strings_come_back_intact(hostile):
    title, blocks = blocks_with(hostile)
    page = to_html(title, blocks)
    reader = read(page)
    assert set(reader.tags) <= OWN_TAGS, set(reader.tags) - OWN_TAGS
    assert {name for _, name, _ in reader.attributes} <= OWN_ATTRIBUTES
    # the number of elements is the document's own: nothing was opened by an input string
    assert reader.tags.count("script") == 0 and reader.tags.count("b") == 2      # the two card facts
    assert reader.tags.count("img") == 1 and reader.tags.count("h2") == 1 and reader.tags.count("h3") == 1
    text = "".join(reader.text)
    # title, h1, heading, two paragraphs, header, two cells, caption, figcaption, card title, verdict,
    # reason, fact label and value
    assert text.count(hostile) >= 15
    values = {(tag, name): value for tag, name, value in reader.attributes if name in ("alt", "id")}
    assert values[("img", "alt")] == hostile                       # the caption, as one attribute value
    assert values[("h2", "id")] == hostile
    classes = [value for tag, name, value in reader.attributes if name == "class" and tag == "span"]
    assert len(classes) == 1 and re.fullmatch(r"verdict [A-Za-z0-9-]*", classes[0])


@pytest.mark.parametrize("hostile", HOSTILE)
def test_each_block_escapes_on_its_own(hostile):
    """Block by block, so a miss names the block: its text is never raw in the page."""
    for block in blocks_with(hostile)[1]:
        page = to_html("t", [block])
        body = page.split("<body>", 1)[1]
        for raw in ("<script", "<img src=x", "<b>bold", "onmouseover='", "onfocus='", "' x=\""):
            if raw in hostile:
                assert raw not in body, (type(block).__name__, raw)
        assert set(read(page).tags) <= OWN_TAGS


def test_esc_escapes_all_five_characters():
    assert esc("<a href=\"x\" title='y'>&</a>") == "&lt;a href=&quot;x&quot; title=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
    assert esc(3.5) == "3.5"


def test_markdown_escapes_markup_and_keeps_each_block_on_its_lines():
    for hostile in HOSTILE + ["| pipe | *star* _under_ `tick` [link](x) # hash\nnext line"]:
        title, blocks = blocks_with(hostile)
        text = to_markdown(title, blocks)
        assert not re.search(r"(?<!\\)<", text), "every < is backslash-escaped"
        expected = md_escape(hostile)
        assert "\n" not in expected
        assert text.count(expected) >= 12
        # a pipe in a cell never splits a table row
        for line in text.splitlines():
            if line.startswith("| "):
                assert len(re.findall(r"(?<!\\)\|", line)) == 3, line


def test_markdown_escape_by_hand():
    assert md_escape("a<b>|c*d_e`f[g](h)#\\") == r"a\<b\>\|c\*d\_e\`f\[g\](h)\#\\"
    assert md_escape("one\ntwo") == "one two"
    assert md_escape("a&amp;b") == r"a\&amp;b"


@pytest.mark.parametrize("word", ["a&amp;b", "a&#x27;b", "&lt;script&gt;", "AT&T"])
def test_markdown_shows_entity_like_words_as_written(word):
    """A CommonMark renderer turns an unescaped 'a&amp;b' into 'a&b': the word would read as another."""
    from markdown_it import MarkdownIt   # the test extra's CommonMark renderer
    html = MarkdownIt().render(md_escape(word))
    import html as html_module
    assert html_module.unescape(re.sub(r"</?p>", "", html).strip()) == word


# ----------------------------------------------------------------------------- a whole report
NAME = "ev\"il' <i>one</i>"
FILE = "we\"ird' <u title='x'>file.txt"   # no slash: it is a file name
WORD = "<q\"uote'>"


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory, word_sim_dir):
    """`audit all` on an embedding whose name, file name and a word carry <, " and '."""
    import numpy as np

    from audit import Vectors
    from audit.cli.main import main
    from audit.core.loaders import save_word2vec_text

    folder = tmp_path_factory.mktemp("hostile")
    words = ["ate", "eight", "meat", "meet", "sea", "see", "tale", "tail", "know", "no", "peace", "piece",
             WORD, "tiger", "cat", "car"] + [f"filler{i}" for i in range(120)]
    rng = np.random.default_rng(5)
    matrix = rng.normal(size=(len(words), 12))
    matrix[words.index(WORD)] = matrix[words.index("ate")] * 1.01      # ate's nearest neighbour: shown
    path = folder / FILE
    save_word2vec_text(Vectors(words, matrix), path)
    out = folder / "out"
    code = main(["all", str(path), "--names", NAME, "--data-dir", str(word_sim_dir), "--out", str(out)])
    assert code == 0
    return out, path


def test_a_report_shows_hostile_names_file_names_and_words_as_text(hostile_report):
    out, path = hostile_report
    page = (out / "index.html").read_text(encoding="utf-8")
    reader = read(page)
    assert set(reader.tags) <= OWN_TAGS, set(reader.tags) - OWN_TAGS
    assert "i" not in reader.tags and "u" not in reader.tags and "q" not in reader.tags
    assert {name for _, name, _ in reader.attributes} <= OWN_ATTRIBUTES
    text = "".join(reader.text)
    attribute_values = "".join(value or "" for _, _, value in reader.attributes)
    assert NAME in text and str(path) in text and WORD in text
    # figure captions that name the embedding are both alt text and figcaption, intact
    assert all(NAME not in caption or caption in text
               for tag, name, caption in reader.attributes if (tag, name) == ("img", "alt"))
    assert "<i>" not in page and "<u " not in page and "<q" not in page
    assert NAME in text + attribute_values
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)<", markdown), "every < in the Markdown report is escaped"
    assert md_escape(NAME) in markdown and md_escape(WORD) in markdown


# ----------------------------------------------------------------------------- exact rendering
SMALL = [Heading("H", 3, anchor="a"), Paragraph("p"), Paragraph("e", emphasis=True),
         Table(["a", "b"], [[1234, 2.5], ["x", None]], caption="c"),
         Figure("f", "<svg/>", "cap"), Card("t", "Partly Phonetic!", "r", (("k", 3), ("n", Number(0.25, 1))))]


def test_markdown_of_a_small_document_by_hand():
    assert to_markdown("T", SMALL) == (
        "# T\n\n### H\n\np\n\n*e*\n\n| a | b |\n|---|---|\n| 1,234 | 2.500 |\n| x | - |\n\n*c*\n\n"
        "![cap](figures/f.svg)\n\n*cap*\n\n**t: Partly Phonetic!**\n\nr\n\n- k: 3\n- n: 0.2\n")
    assert to_markdown("T", [Card("t", "v", "")]) == "# T\n\n**t: v**\n"   # trailing blank lines trimmed
    assert to_markdown("T", [Table(["a"], [[1]])]) == "# T\n\n| a |\n|---|\n| 1 |\n"


def test_html_blocks_of_a_small_document_by_hand():
    import base64

    page = to_html("T", SMALL)
    body = page.split("<body>\n", 1)[1]
    svg = base64.b64encode(b"<svg/>").decode()
    assert body == (
        "<h1>T</h1>\n<h3 id=\"a\">H</h3>\n<p>p</p>\n<p class=\"note\">e</p>\n"
        "<div class=\"wide\"><table><caption>c</caption><thead><tr><th>a</th><th>b</th></tr></thead><tbody>"
        "<tr><td class=\"num\">1,234</td><td class=\"num\">2.500</td></tr><tr><td>x</td><td>-</td></tr></tbody>"
        "</table></div>\n"
        f"<figure><img alt=\"cap\" src=\"data:image/svg+xml;base64,{svg}\"><figcaption>cap</figcaption></figure>\n"
        "<div class=\"cards\"><section class=\"card\"><h3>t</h3><span class=\"verdict partly-phonetic-\">"
        "Partly Phonetic!</span><p>r</p><ul><li>k: <b>3</b></li><li>n: <b>0.2</b></li></ul></section></div>\n"
        "</body>\n</html>\n")
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
    assert "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; " \
           "style-src 'unsafe-inline'\">" in page
    assert "<title>T</title>" in page
    # a heading without an anchor has no id; a card without a reason has no paragraph
    assert to_html("T", [Heading("H")]).count("<h2>H</h2>") == 1
    assert "<p>" not in to_html("T", [Card("t", "v", "")]).split("<body>")[1]
    assert to_html("T", [Table(["a"], [[1]])]).count("<caption>") == 0


def test_consecutive_cards_share_one_row_of_cards():
    page = to_html("T", [Card("a", "v", ""), Card("b", "v", ""), Paragraph("p"), Card("c", "v", "")])
    body = page.split("<body>")[1]
    assert body.count('<div class="cards">') == 2
    first = body.split('<div class="cards">')[1]
    assert "<h3>a</h3>" in first and "<h3>b</h3>" in first and "<h3>c</h3>" not in first
    with pytest.raises(TypeError, match="unknown block"):
        to_html("T", [object()])


def test_cell_text_and_numbers():
    from reports.document import cell_text

    assert [cell_text(v) for v in (None, 3, 1234567, 0.5, True, "s", Number(None), Number(float("nan")),
                                   Number(float("inf")), Number(True), Number(7), Number(1.23456, 2))] == \
        ["-", "3", "1,234,567", "0.500", "True", "s", "-", "-", "-", "yes", "7", "1.23"]
    assert Number(False).text() == "no" and Number(-0.5, 0).text() == "-0"
    assert md_escape("aXb XX") == "aXb XX"


def test_html_edges_by_hand():
    card = '<section class="card"><h3>{0}</h3><span class="verdict v">v</span><ul></ul></section>'
    body = to_html("T", [Card("a", "v", ""), Card("b", "v", "")]).split("<body>\n", 1)[1]
    assert body == ("<h1>T</h1>\n<div class=\"cards\">" + card.format("a") + card.format("b") + "</div>\n"
                    "</body>\n</html>\n")
    table = to_html("T", [Table(["h"], [["x"]])]).split("<body>\n", 1)[1]
    assert table.startswith("<h1>T</h1>\n<div class=\"wide\"><table><thead><tr><th>h</th></tr></thead><tbody>"
                            "<tr><td>x</td></tr></tbody></table></div>\n")
    with pytest.raises(TypeError, match=r"^unknown block object$"):
        to_html("T", [object()])


def test_html_head_by_hand():
    from reports.document import _CSS

    head = to_html("T<", []).split("<body>")[0]
    assert head == ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
                    "style-src 'unsafe-inline'\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                    f"<title>T&lt;</title>\n<style>{_CSS.strip()}</style>\n</head>\n")


def test_markdown_keeps_other_whitespace_and_trims_only_newlines():
    assert md_escape("a\tb  c\r") == "a\tb  c\r"
    assert to_markdown("T", [Paragraph("p ")]) == "# T\n\np \n"
    assert to_markdown("T", [Paragraph("aX")]) == "# T\n\naX\n"


FINDINGS = [FindingLine("Homo<b>", "not supported", 'x "y" & z', anchor="homophones", section="Homo_phones"),
            FindingLine("Vocab", "not tested", "no corpus."),
            FindingLine("B'", "supported", "s")]


def test_finding_lines_in_markdown_by_hand():
    assert to_markdown("T", FINDINGS) == (
        "# T\n\n"
        "- **Homo\\<b\\>: not supported.** x \"y\" \\& z ([Homo\\_phones](#homophones))\n\n"
        "- **Vocab: not tested.** no corpus.\n\n"
        "- **B': supported.** s\n")


def test_finding_lines_in_html_by_hand():
    body = to_html("T", FINDINGS).split("<body>\n", 1)[1]
    assert body == (
        "<h1>T</h1>\n<ul class=\"findings\">"
        "<li class=\"finding not-supported\"><b>Homo&lt;b&gt;</b> <span class=\"status\">not supported</span> "
        "x &quot;y&quot; &amp; z <a href=\"#homophones\">Homo_phones</a></li>"
        "<li class=\"finding not-tested\"><b>Vocab</b> <span class=\"status\">not tested</span> no corpus.</li>"
        "<li class=\"finding supported\"><b>B&#x27;</b> <span class=\"status\">supported</span> s</li>"
        "</ul>\n</body>\n</html>\n")
    # consecutive finding lines share one list; another block between them starts a new one
    split = to_html("T", [FINDINGS[1], Paragraph("p"), FINDINGS[2]]).split("<body>\n", 1)[1]
    assert split.count("<ul class=\"findings\">") == 2 and "<p>p</p>" in split


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_in_finding_lines_come_back_intact(hostile):
    line = FindingLine(hostile, hostile, hostile, anchor="a" + hostile, section=hostile)
    reader = read(to_html("T", [line]))
    assert set(reader.tags) <= OWN_TAGS and {a[1] for a in reader.attributes} <= OWN_ATTRIBUTES
    assert "".join(reader.text).count(hostile) == 4          # title, status, sentence, section: text, not markup
    assert ("a", "href", "#a" + hostile) in reader.attributes
    markdown = to_markdown("T", [line])
    assert markdown.count("\n") == 3 and markdown.endswith(f"(#a{hostile}))\n")


def test_a_long_or_cjk_embedding_name_keeps_the_rank_figure_readable():
    """A 200-character name once took the legend's whole width (the plot 3 points wide, matplotlib
    warning that constrained layout collapsed) and CJK names warned once per missing glyph."""
    import warnings

    from reports import figures
    names = {"L" * 200: [1, 2, 3, 50], "\u65e5\u672c\u8a9e\u306e\u540d\u524d": [1, 1, 2], "short": [5, 9, 400]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # any warning fails the test
        svg = figures.rank_histograms(names, {name: 1000 for name in names})
    assert "L" * (figures.LABEL_CHARACTERS - 1) + "\u2026" in svg and "L" * figures.LABEL_CHARACTERS not in svg


def test_a_small_p_value_is_shown_in_scientific_notation_not_as_zero():
    """The report printed p = 8.25e-06 as 0.0000 (the CLI said 9.314e-05): a number marked small
    below half the last shown digit is written as x.xxe-yy; others as before."""
    assert [Number(v, 4, small=True).text() for v in (8.25e-06, 0.0123, 0.0, 4.9e-05, 5e-05, None)] == \
        ["8.25e-06", "0.0123", "< 1e-300", "4.90e-05", "0.0001", "-"]     # 0.0: an underflowed p-value
    assert Number(8.25e-06, 4).text() == "0.0000"     # unmarked numbers keep their fixed decimals
