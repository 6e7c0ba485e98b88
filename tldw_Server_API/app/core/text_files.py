"""Reading an uploaded file as the text of a media item: plain text, Markdown, HTML or PDF.

Text and Markdown are kept as written; HTML keeps its visible text (no tags,
scripts or styles), one line per block element, and its ``<title>``; a PDF gives
the text of its pages (its text layer: a scan without one has no text to give),
a blank line between pages, and its document title. Anything else, text bytes
that are not UTF-8, or a PDF that cannot be read is refused with a message
saying which file and why.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import PurePath

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from .text import storable

PLAIN_SUFFIXES = (".txt", ".text", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
PDF_SUFFIXES = (".pdf",)
READABLE_SUFFIXES = PLAIN_SUFFIXES + HTML_SUFFIXES + PDF_SUFFIXES

# pypdf's warnings about a damaged file quote bytes of it (user content, kept out of
# the logs); the refusal below already says which file could not be read and why.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)

#: Elements whose text a reader does not see.
_HIDDEN = frozenset({"script", "style", "head", "template", "noscript"})
#: Elements that start a new line of text.
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
     "section", "article", "header", "footer", "table", "ul", "ol", "hr"}
)  # fmt: skip


class UnreadableFile(ValueError):
    """A file this server cannot turn into text; the message names the file."""


@dataclass(frozen=True)
class FileText:
    text: str
    title: str | None  # the document's own title (HTML <title>), when it has one


def read_text_file(name: str, data: bytes) -> FileText:
    """The text of the uploaded file *name*; :class:`UnreadableFile` if it has none we read."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in READABLE_SUFFIXES:
        raise UnreadableFile(
            f"{name}: only {', '.join(READABLE_SUFFIXES)} files can be added "
            f"(got {suffix or 'a name without an extension'})"
        )
    if suffix in PDF_SUFFIXES:
        return _pdf_text(name, data)
    try:
        text = storable(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise UnreadableFile(f"{name}: not UTF-8 text") from None
    except ValueError as exc:
        raise UnreadableFile(f"{name}: {exc}") from None
    if suffix in HTML_SUFFIXES:
        return _html_text(text)
    return FileText(text, None)


def _pdf_text(name: str, data: bytes) -> FileText:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableFile(f"{name}: the PDF is encrypted; save a copy without a password")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except UnreadableFile:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        # A damaged PDF can trip its parser anywhere; the file is refused either way.
        raise UnreadableFile(f"{name}: not a readable PDF ({type(exc).__name__})") from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise UnreadableFile(
            f"{name}: the PDF has no text layer (a scanned document needs OCR first)"
        )
    try:
        return FileText(storable(text), " ".join(str(title or "").split()) or None)
    except ValueError as exc:
        raise UnreadableFile(f"{name}: {exc}") from None


def _html_text(html: str) -> FileText:
    reader = _VisibleText()
    reader.feed(html)
    reader.close()
    lines = (" ".join(line.split()) for line in "".join(reader.parts).splitlines())
    title = " ".join(reader.title.split()) or None
    return FileText("\n".join(line for line in lines if line), title)


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._hidden:
            self.parts.append(data)


__all__ = ["READABLE_SUFFIXES", "FileText", "UnreadableFile", "read_text_file"]
