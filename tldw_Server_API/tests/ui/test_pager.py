"""The pager below the WebUI's lists: its links keep the list's filters (no browser)."""

from __future__ import annotations

from tldw_Server_API.app.web.user_pages import PAGE_SIZE, pager


def test_a_known_total_gives_the_pages_and_the_neighbours_keeping_the_filters() -> None:
    first = pager("/media", 1, {"q": '"a b" c*', "type": "", "keyword": "x"}, 2 * PAGE_SIZE + 1, 20)
    assert first.pages == 3 and first.offset == 0
    assert first.prev_url is None
    assert first.next_url == "/media?q=%22a+b%22+c%2A&keyword=x&page=2"
    last = pager("/media", 3, {}, 2 * PAGE_SIZE + 1, 1)
    assert last.offset == 2 * PAGE_SIZE
    assert last.next_url is None and last.prev_url == "/media?page=2"


def test_without_a_total_a_full_page_may_have_a_next_one() -> None:
    assert pager("/notes", 1, {"q": "w"}, None, PAGE_SIZE).next_url == "/notes?q=w&page=2"
    assert pager("/notes", 2, {"q": "w"}, None, PAGE_SIZE - 1).next_url is None
    assert pager("/notes", 1, {}, None, 0).pages is None
