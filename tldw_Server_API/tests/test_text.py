"""strip_nul: the one rule that drops what PostgreSQL's text and JSONB cannot hold."""

from __future__ import annotations

from tldw_Server_API.app.core.text import strip_nul


def test_strip_nul_drops_every_nul_of_a_string() -> None:
    assert strip_nul("\x00a\x00\x00b\x00") == "ab"


def test_strip_nul_leaves_a_string_without_nul_as_it_is() -> None:
    assert strip_nul("café 東 😀") == "café 東 😀"


def test_strip_nul_cleans_keys_and_strings_at_every_depth_of_a_json_value() -> None:
    value = {"k\x00ey": ["a\x00", {"in\x00ner": "b\x00c"}], "n": 1, "f": 1.5, "z": None}
    assert strip_nul(value) == {"key": ["a", {"inner": "bc"}], "n": 1, "f": 1.5, "z": None}


def test_strip_nul_returns_numbers_booleans_and_none_unchanged() -> None:
    assert [strip_nul(v) for v in (0, 2.5, True, None)] == [0, 2.5, True, None]
