"""Confining a search to some columns of an index: the FTS5 and tsquery renderings."""

from __future__ import annotations

import pytest

from tldw_Server_API.app.core.DB_Management.search import compile_query, restriction

MEDIA = (("title", "A"), ("content", "B"))
CARDS = (("name", "A"), ("description", "B"), ("personality", "B"))


def test_no_restriction_for_none_or_every_column() -> None:
    assert restriction(MEDIA, None) == ((), "")
    assert restriction(MEDIA, []) == ((), "")
    assert restriction(MEDIA, ["content", "title"]) == ((), "")


def test_one_column_gives_its_fts5_name_and_tsquery_weight() -> None:
    assert restriction(MEDIA, ["content"]) == (("content",), "B")
    assert restriction(CARDS, ["name"]) == (("name",), "A")


def test_unknown_column_and_shared_weight_are_refused() -> None:
    with pytest.raises(ValueError, match="no column 'author'"):
        restriction(MEDIA, ["author"])
    with pytest.raises(ValueError, match="apart from personality"):
        restriction(CARDS, ["description"])


def test_restricted_query_renders_a_column_filter_and_weight_labels() -> None:
    compiled = compile_query('cat* -"big dog"', columns=("title",), weights="A")

    assert compiled.fts5 == '{"title"} : ("cat"* NOT "big dog")'
    assert compiled.tsquery == "('cat':*A & !('big':A <-> 'dog':A))"
    assert compile_query("cat").tsquery == "'cat'"
    assert compile_query("-cat", columns=("title",), weights="A").fts5 is None
