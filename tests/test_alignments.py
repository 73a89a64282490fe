"""Word-alignment readers: the librispeech-alignments release format and MFA TextGrids."""

import pytest

from audit.speech.alignments import (WordSpan, format_alignment_line, parse_alignment_line, read_librispeech_alignments,
                              read_textgrid, write_librispeech_alignments)
from audit.core.errors import AuditError

# A line in the release's format (words, then end times; empty word = silence).
LINE = '84-121123-0000 ",GO,,DO,YOU,HEAR," "0.490,0.890,1.270,1.380,1.490,1.890,2.280"'


def test_release_line_gives_words_with_previous_end_as_start():
    utterance, spans = parse_alignment_line(LINE)
    assert utterance == "84-121123-0000"
    assert spans == [WordSpan("GO", 0.49, 0.89), WordSpan("DO", 1.27, 1.38), WordSpan("YOU", 1.38, 1.49),
                     WordSpan("HEAR", 1.49, 1.89)]
    assert spans[0].duration == pytest.approx(0.40)


def test_silence_is_kept_on_request():
    _, spans = parse_alignment_line(LINE, keep_silence=True)
    assert [s.word for s in spans] == ["", "GO", "", "DO", "YOU", "HEAR", ""]
    assert spans[0] == WordSpan("", 0.0, 0.49) and spans[-1] == WordSpan("", 1.89, 2.28)


def test_write_then_read_round_trips(tmp_path):
    spans = {"1-2-0000": [WordSpan("A", 0.15, 0.3), WordSpan("B", 0.35, 0.6)], "1-2-0001": [WordSpan("C", 0.0, 0.2)]}
    assert format_alignment_line("1-2-0000", spans["1-2-0000"]) == '1-2-0000 ",A,,B" "0.150,0.300,0.350,0.600"'
    path = write_librispeech_alignments(tmp_path / "1-2.alignment.txt", spans)
    assert read_librispeech_alignments(path) == spans


@pytest.mark.parametrize("line, message", [
    ('x ",A,B," "0.1,0.2"', "2 end times"),
    ('x ",A," "0.1,zero,0.3"', "not a number"),
    ('x "A,B" "0.5,0.2"', "backwards"),
    ("x A B", "not a librispeech-alignments line"),
])
def test_bad_lines_are_one_sentence_errors(tmp_path, line, message):
    path = tmp_path / "bad.alignment.txt"
    path.write_text(LINE + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(AuditError, match=message) as info:
        read_librispeech_alignments(path)
    assert "line 2" in str(info.value)


LONG_TEXTGRID = '''File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 1.5
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 1.5
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 0.42
            text = ""
        intervals [2]:
            xmin = 0.42
            xmax = 0.9
            text = "ate"
        intervals [3]:
            xmin = 0.9
            xmax = 1.5
            text = "[eight]"
    item [2]:
        class = "IntervalTier"
        name = "phones"
        xmin = 0
        xmax = 1.5
        intervals: size = 1
        intervals [1]:
            xmin = 0
            xmax = 1.5
            text = "EY1"
'''

SHORT_TEXTGRID = '''"ooTextFile"
"TextGrid"
0
1.5
<exists>
1
"IntervalTier"
"words"
0
1.5
2
0
0.7
"say ""hi"""
0.7
1.5
""
'''


def test_long_textgrid_word_tier(tmp_path):
    path = tmp_path / "u.TextGrid"
    path.write_text(LONG_TEXTGRID, encoding="utf-8")
    assert read_textgrid(path) == [WordSpan("ate", 0.42, 0.9), WordSpan("[eight]", 0.9, 1.5)]
    assert read_textgrid(path, tier="phones") == [WordSpan("EY1", 0.0, 1.5)]
    assert len(read_textgrid(path, keep_silence=True)) == 3


def test_short_textgrid_and_escaped_quotes(tmp_path):
    path = tmp_path / "u.TextGrid"
    path.write_text(SHORT_TEXTGRID, encoding="utf-8")
    assert read_textgrid(path) == [WordSpan('say "hi"', 0.0, 0.7)]


def test_not_a_textgrid(tmp_path):
    path = tmp_path / "u.TextGrid"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(AuditError, match="not a readable Praat TextGrid"):
        read_textgrid(path)
