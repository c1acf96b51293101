from __future__ import annotations

import pytest

from messaging.segments import MAX_GSM_UNITS, encode_info, fits_one_reply, split_reply


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("Did you take your evening dose?", "GSM-7", 1),
        ("x" * 160, "GSM-7", 1),
        ("x" * 161, "GSM-7", 2),
        ("{" * 80, "GSM-7", 1),  # extension characters cost two units
        ("{" * 81, "GSM-7", 2),
        ("Took it 👍", "UCS-2", 1),
        ("é" * 10, "GSM-7", 1),  # é is in the GSM basic set
        ("ê" * 71, "UCS-2", 2),
        ("“quoted”", "UCS-2", 1),
    ],
)
def test_it_counts_encoding_and_segments(text: str, encoding: str, segments: int) -> None:
    info = encode_info(text)
    assert (info.encoding, info.segments) == (encoding, segments)


def test_it_splits_a_long_reply_at_sentences_into_parts_that_fit() -> None:
    sentence = "This sentence is about sixty characters long, give or take. "
    text = sentence * 12
    parts = split_reply(text)
    assert len(parts) > 1
    assert all(fits_one_reply(p) and len(p) <= MAX_GSM_UNITS for p in parts)
    assert " ".join(parts).split() == text.split()


def test_it_keeps_a_short_reply_whole() -> None:
    assert split_reply("  Thanks!  ") == ["Thanks!"]
    assert split_reply("") == []
