"""Reading uploaded files as text: what each kind gives, and how a bad file is refused."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter

from tldw_Server_API.app.core.text_files import UnreadableFile, read_text_file
from tldw_Server_API.tests.pdf_files import text_pdf


def test_a_pdf_gives_the_text_of_its_pages_and_its_title() -> None:
    read = read_text_file("notes.pdf", text_pdf(["We saw a quetzal.", "Then rain."], "Trip"))
    assert read.text == "We saw a quetzal.\n\nThen rain."
    assert read.title == "Trip"


def test_a_pdf_without_a_title_has_none() -> None:
    assert read_text_file("a.PDF", text_pdf(["words"])).title is None


def test_a_damaged_pdf_is_refused_naming_the_file() -> None:
    with pytest.raises(UnreadableFile, match=r"^scan\.pdf: not a readable PDF"):
        read_text_file("scan.pdf", b"%PDF-1.4 and then nothing")


def test_a_pdf_with_no_text_layer_is_refused_saying_so() -> None:
    with pytest.raises(UnreadableFile, match=r"^blank\.pdf: the PDF has no text layer"):
        read_text_file("blank.pdf", text_pdf([""]))


def test_an_encrypted_pdf_is_refused_saying_so() -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(["secret words"]))))
    writer.encrypt("a password")
    locked = io.BytesIO()
    writer.write(locked)
    with pytest.raises(UnreadableFile, match=r"^locked\.pdf: the PDF is encrypted"):
        read_text_file("locked.pdf", locked.getvalue())


def test_a_damaged_pdfs_bytes_stay_out_of_the_message() -> None:
    with pytest.raises(UnreadableFile) as refused:
        read_text_file("x.pdf", b"garbage-private-words")
    assert "private" not in str(refused.value)


def test_a_file_of_another_kind_is_refused_naming_what_can_be_read() -> None:
    with pytest.raises(UnreadableFile, match=r"^report\.docx: only .*\.pdf files can be added"):
        read_text_file("report.docx", b"PK\x03\x04")


def test_html_keeps_its_visible_text_and_title() -> None:
    page = b"<html><head><title>T</title><style>x{}</style></head><p>one</p><p>two</p></html>"
    read = read_text_file("page.html", page)
    assert (read.text, read.title) == ("one\ntwo", "T")
