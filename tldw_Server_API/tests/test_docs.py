"""The user documentation's links: README.md and docs/*.md link only to files in the repository.

A relative link (or image) must name a file that exists, without leaving the repository through
``../``; a ``#fragment`` must name a heading of its target, under GitHub's slug rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")
#: ``[text](target)`` and ``![alt](target)``; the target stops at whitespace (a title may follow).
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[^)]*)?\)")
#: ``[label]: target`` reference definitions.
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # http:, https:, mailto: ...


@dataclass(frozen=True)
class Link:
    doc: Path
    line: int
    target: str

    @property
    def path_part(self) -> str:
        return self.target.split("#", 1)[0]

    @property
    def fragment(self) -> str | None:
        return self.target.split("#", 1)[1] if "#" in self.target else None

    def resolved(self) -> Path:
        return (self.doc.parent / self.path_part).resolve() if self.path_part else self.doc

    def __str__(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}: ({self.target})"


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    lines: list[tuple[int, str]] = []
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            lines.append((number, line))
    return lines


def relative_links(doc: Path) -> list[Link]:
    """Every link and image of ``doc`` that is not an absolute URL."""
    found: list[Link] = []
    for number, raw in prose_lines(doc.read_text(encoding="utf-8")):
        line = INLINE_CODE.sub("", raw)  # `[a](b)` in code is an example, not a link
        targets = INLINE_LINK.findall(line)
        reference = REFERENCE_LINK.match(line)
        if reference:
            targets.append(reference.group(1))
        found += [Link(doc, number, t) for t in targets if not EXTERNAL.match(t)]
    return found


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces become '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def heading_anchors(doc: Path) -> set[str]:
    """The anchors GitHub gives the headings of ``doc`` (a repeated slug gets -1, -2, ...)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(doc.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(1))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def doc_id(doc: Path) -> str:
    return str(doc.relative_to(REPO))


def test_the_documentation_is_found() -> None:
    names = {doc_id(d) for d in DOCS}
    assert {"README.md", "docs/migration.md", "docs/postgres-migration-guide.md"} <= names


def test_github_slug_follows_githubs_rules() -> None:
    assert github_slug("Where the data lives") == "where-the-data-lives"
    assert github_slug("What `--batch-size` does") == "what---batch-size-does"
    assert github_slug("Step 1 - Connection details") == "step-1---connection-details"
    assert github_slug("The report (`--report`)") == "the-report---report"
    assert github_slug("[Any SQLite file](x.md)") == "any-sqlite-file"


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_no_link_leaves_the_repository(doc: Path) -> None:
    outside = [
        str(link) for link in relative_links(doc) if not link.resolved().is_relative_to(REPO)
    ]
    assert outside == [], "links outside the repository (a user's clone lacks them)"


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_relative_links_name_existing_files(doc: Path) -> None:
    missing = [str(link) for link in relative_links(doc) if not link.resolved().exists()]
    assert missing == [], "links to files that do not exist"


@pytest.mark.parametrize("doc", DOCS, ids=doc_id)
def test_anchors_name_a_heading_of_their_target(doc: Path) -> None:
    broken = [
        str(link)
        for link in relative_links(doc)
        if link.fragment is not None
        and link.resolved().suffix == ".md"
        and link.resolved().is_file()
        and link.fragment not in heading_anchors(link.resolved())
    ]
    assert broken == [], "anchors that match no heading"
