"""The tables of a current media file that hang off one media item.

Page and frame images, document structure, stored files, text-to-speech history,
data tables, mail, content items and the reading list: each on a fixed share of
items keyed on the item id (item 1 always), so even a tiny sample fills them all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from .corpus import (
    FIRST_NAMES,
    LAST_NAMES,
    default_stamp,
    distinct_keywords,
    flag,
    hex_digits,
    iso,
    json_text,
    make_sentence,
    make_text,
    make_title,
    make_words,
    png,
    sha256_hex,
    sql_default,
    stamp,
    uuid4,
)
from .sink import Sink, sync_columns

DOMAINS = ("example.org", "blog.example.com", "news.example.net", "wiki.example.org")


@dataclass(frozen=True)
class Item:
    """A media item just written: what the feature tables hanging off it need to know."""

    mid: int
    mtype: str
    title: str
    content: str
    t: float
    client: str
    deleted: int
    owner: int | None


FILE_KINDS = {
    "pdf": ("pdf", "application/pdf"),
    "audio": ("mp3", "audio/mpeg"),
    "video": ("mp4", "video/mp4"),
    "ebook": ("epub", "application/epub+zip"),
    "document": (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
}
STRUCTURED_TYPES = ("pdf", "document", "ebook", "article")
_TTS_VOICES = (
    ("openai", "tts-1", "alloy"),
    ("kokoro", "kokoro-v1", "af_bella"),
    ("elevenlabs", "eleven_multilingual_v2", "Rachel"),
)
_EMAIL_LABELS = ("INBOX", "Important", "Receipts", "Travel", "Newsletters", "Étiquette")
_CONTENT_ORIGINS = ("reading", "rss", "watchlist", "import")


class ExtrasState:
    """What the current-media generators share: the sink, their own generator, counters."""

    def __init__(self, sink: Sink, rng: random.Random, size: int, owner: int | None) -> None:
        self.sink, self.rng, self.size, self.owner = sink, rng, size, owner
        self.n = 0
        self.ids: dict[str, int] = {}
        # cluster id -> [canonical text, representative claim id, members, created]
        self.clusters: dict[int, list] = {}

    def _tick(self) -> int:
        self.n += 1
        return self.n

    def _next(self, key: str) -> int:
        self.ids[key] = self.ids.get(key, 0) + 1
        return self.ids[key]


class ItemFeatures(ExtrasState):
    """The feature tables hanging off one media item (pages, files, speech, mail, ...)."""

    def _visuals(self, item: Item) -> None:
        """Pages of a PDF, frames of a video, the odd image of anything else."""
        rng = self.rng
        if item.mtype == "pdf":
            count = 1 + int(rng.random() * 2)
        elif item.mtype == "video":
            count = 1 + int(rng.random() * 3)
        else:
            count = int(item.mid == 1 or rng.random() < 0.05)
        for k in range(1, count + 1):
            vid = self._next("visual")
            video = item.mtype == "video"
            at = round(k * (30 + rng.random() * 300), 3) if video else None
            row = (
                vid,
                item.mid,
                f"frame:{k * 750}" if video else f"page:{k}",
                None if video else k,
                k * 750 if video else None,
                at,
                make_sentence(rng, 4, 10) if rng.random() < 0.7 else None,
                make_sentence(rng) if rng.random() < 0.6 else None,
                json_text(sorted(set(make_words(rng, 2)))),
                f"thumbnails/{item.mid}/{vid}.jpg",
                json_text({"width": 1280, "height": 720 if video else 1650, "dpi": 150}),
                uuid4(rng),
                default_stamp(item.t + 40, self._tick()),
                iso(item.t + 40),
                1,
                item.client,
                item.deleted,
                None,
                None,
            )
            self.sink.add("VisualDocuments", row)

    def _structure(self, item: Item) -> None:
        """A section spanning the content and its first paragraphs beneath it."""
        root = self._next("dsi")
        common = (iso(item.t + 50), 1, item.client, item.deleted)
        created = default_stamp(item.t + 50, self._tick())
        self.sink.add(
            "DocumentStructureIndex",
            (
                root,
                item.mid,
                None,
                "section",
                1,
                item.title,
                0,
                len(item.content),
                0,
                "1",
                created,
                *common,
            ),
        )
        start = 0
        for k, paragraph in enumerate(
            item.content.split("\n\n")[: 1 + int(self.rng.random() * 3)], 1
        ):
            start = item.content.index(paragraph, start)
            end = start + len(paragraph)
            heading = paragraph.split(". ")[0][:80]
            row = (
                self._next("dsi"),
                item.mid,
                root,
                "paragraph",
                2,
                heading,
                start,
                end,
                k,
                f"1.{k}",
            )
            self.sink.add("DocumentStructureIndex", (*row, created, *common))
            start = end

    def _files(self, item: Item) -> None:
        """The uploaded original, and for some items a thumbnail."""
        rng = self.rng
        ext, mime = FILE_KINDS.get(item.mtype, ("txt", "text/plain"))
        slug = "_".join(item.title.split()[:4])
        kinds: list[tuple[str, str, str, str | None]] = [("original", ext, mime, f"{slug}.{ext}")]
        if rng.random() < 0.2:
            kinds.append(("thumbnail", "jpg", "image/jpeg", None))
        for file_type, suffix, mimetype, original in kinds:
            fid = self._next("file")
            row = (
                fid,
                item.mid,
                file_type,
                f"media/{item.owner or 0}/{item.mid}/{file_type}.{suffix}",
                original,
                int(20_000 + rng.random() * 40_000_000),
                mimetype,
                hex_digits(rng, 64),
                sql_default(item.t + 10),
            )
            self.sink.add(
                "MediaFiles",
                row + sync_columns(rng, item.t + 10, version=1, deleted=0, client=item.client),
            )

    def _tts(self, item: Item) -> None:
        rng = self.rng
        tid = self._next("tts")
        text = item.content[: 200 + int(rng.random() * 400)]
        provider, model, voice = rng.choice(_TTS_VOICES)
        failed = rng.random() < 0.1
        deleted = int(tid % 5 == 3)
        when = item.t + 3600.0 * (1 + rng.random() * 48)
        row = (
            tid,
            str(item.owner or 1),
            item.mid if rng.random() < 0.8 else None,
            text,
            sha256_hex(text),
            len(text),
            provider,
            model,
            voice,
            rng.choice(("mp3", "wav", "opus")),
            None if failed else int(len(text) * 65 + rng.random() * 900),
            int(300 + rng.random() * 9000),
            rng.choice((1.0, 1.0, 1.25, 0.9)),
            json_text({"stream": rng.random() < 0.5, "lang": "en"}),
            "failed" if failed else "success",
            "provider timeout after 60 s" if failed else None,
            None if failed else bytes(int(rng.random() * 256) for _ in range(64)),
            flag(rng.random() < 0.2, tid),
            stamp(when, tid, epochs=True),
            deleted,
            iso(when + 86400) if deleted else None,
        )
        self.sink.add("tts_history", row)

    def _data_table(self, item: Item) -> None:
        """A table a model extracted from this item: columns, rows (JSON) and its sources."""
        rng = self.rng
        dt = self._next("dt")
        columns = [
            ("col_1", "Name", "text"),
            ("col_2", "Value", "number"),
            ("col_3", "Seen", "date"),
        ]
        for position, (column_id, name, kind) in enumerate(columns):
            row: tuple[Any, ...] = (
                self._next("dtcol"),
                dt,
                column_id,
                name,
                kind,
                make_sentence(rng, 3, 6),
                position,
                default_stamp(item.t, self._tick()),
            )
            self.sink.add("data_table_columns", row)
        count = 3 + int(rng.random() * 4)
        for index in range(count):
            values = {
                "col_1": make_title(rng),
                "col_2": round(rng.random() * 1000, 2),
                "col_3": iso(item.t + 86400 * index)[:10],
            }
            body = json_text(values)
            row = (
                self._next("dtrow"),
                dt,
                uuid4(rng),
                index,
                body,
                sha256_hex(body)[:16],
                default_stamp(item.t, self._tick()),
            )
            self.sink.add("data_table_rows", row)
        for k in range(1 + int(rng.random() * 2)):
            media = k == 0
            row = (
                self._next("dtsrc"),
                dt,
                item.mid if media else None,
                "media" if media else "rag_query",
                str(item.mid) if media else hex_digits(rng, 16),
                item.title if media else None,
                json_text({"chars": len(item.content)}) if media else None,
                None if media else json_text({"query": " ".join(make_words(rng, 3)), "top_k": 8}),
                default_stamp(item.t, self._tick()),
            )
            self.sink.add("data_table_sources", row)
        row = (
            dt,
            uuid4(rng),
            f"{make_title(rng)} #{dt}",
            make_sentence(rng) if rng.random() < 0.6 else None,
            f"Extract a table of facts from: {item.title}",
            rng.choice(("ready", "ready", "ready", "failed", "generating")),
            count,
            rng.choice(("gpt-4o-mini", "llama-3.1-8b", "claude-3-5-haiku")),
            item.owner,
            default_stamp(item.t + 600, self._tick()),
            default_stamp(item.t + 700, self._tick()),
            1 + int(rng.random() < 0.3),
            item.client,
            int(dt % 7 == 4),
        )
        self.sink.add("data_tables", row)

    def _email(self, item: Item) -> None:
        """An email ingested as this item: its participants and labels."""
        rng = self.rng
        eid = self._next("email")
        sender = self._address()
        body = make_text(rng, 300 + int(rng.random() * 600))
        n = self._tick()
        row: tuple[Any, ...] = (
            eid,
            item.mid,
            f"user:{item.owner or 1}",
            f"<{hex_digits(rng, 24)}@mail.example.org>",
            hex_digits(rng, 12),
            item.title if rng.random() < 0.9 else None,
            body,
            sender[1],
            stamp(item.t - 3600, n, epochs=True),
            flag(rng.random() < 0.2, n),
            len(body) + int(rng.random() * 4000),
            json_text(
                {"X-Mailer": "Thunderbird", "Content-Language": rng.choice(("en", "fr", "de"))}
            ),
            default_stamp(item.t, n),
            sql_default(item.t + 60),
            int(eid % 9 == 5),
        )
        self.sink.add("email_messages", row)
        people = [("from", sender)] + [
            (rng.choice(("to", "to", "cc", "bcc")), self._address())
            for _ in range(1 + int(rng.random() * 3))
        ]
        for role, (name, address) in people:
            self.sink.add(
                "email_participants", (self._next("participant"), eid, role, name, address)
            )
        for label in sorted(set(rng.choices(_EMAIL_LABELS, k=1 + int(rng.random() * 2)))):
            row = (
                self._next("label"),
                eid,
                label,
                rng.choice(("imap", "gmail")),
                default_stamp(item.t, self._tick()),
            )
            self.sink.add("email_labels", row)

    def _address(self) -> tuple[str | None, str]:
        """(display name, address); some addresses in capitals, as mail clients write them."""
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        address = f"{first}.{last}@example.org"
        address = address.upper() if rng.random() < 0.1 else address.lower()
        return (f"{first} {last}" if rng.random() < 0.8 else None), address

    def _content_item(self, item: Item) -> None:
        """A reading-list or feed entry about this item, with tags and highlights."""
        rng = self.rng
        cid = self._next("content")
        domain = rng.choice(DOMAINS)
        url = f"https://{domain}/read/{item.mid}"
        summary = make_sentence(rng)
        n = self._tick()
        row: tuple[Any, ...] = (
            cid,
            item.mid if rng.random() < 0.7 else None,
            rng.choice(_CONTENT_ORIGINS),
            url,
            url if rng.random() < 0.5 else None,
            domain,
            item.title,
            summary,
            sha256_hex(item.content)[:32],
            len(item.content.split()),
            stamp(item.t - 86400, n, epochs=True),
            rng.choice(("new", "reading", "read", "archived")),
            flag(rng.random() < 0.15, n),
            round(rng.random(), 3),
            json_text({"feed": domain, "lang": "en"}) if rng.random() < 0.6 else None,
            png(rng, 8) if rng.random() < 0.1 else None,
            default_stamp(item.t, n),
            sql_default(item.t + 120),
        )
        self.sink.add("content_items", row)
        for tag in distinct_keywords(rng, 1 + int(rng.random() * 3), ()):
            self.sink.add("content_item_tags", (cid, tag, default_stamp(item.t, self._tick())))
        for _ in range(int(item.mid == 1) + int(rng.random() * 3)):
            start = int(rng.random() * max(1, len(item.content) - 120))
            quote = item.content[start : start + 40 + int(rng.random() * 80)]
            row = (
                self._next("highlight"),
                cid,
                quote,
                start,
                start + len(quote),
                rng.choice(("yellow", "green", "blue", "pink")),
                make_sentence(rng, 3, 8) if rng.random() < 0.4 else None,
                rng.choice(("active", "active", "stale")),
                default_stamp(item.t + 300, self._tick()),
            )
            self.sink.add("reading_highlights", row)

    def _reading_list(self, item: Item) -> None:
        """The user's own table, filled by hand: epoch dates and 'true'/'false' among the rest."""
        rng = self.rng
        n = self._next("reading_list")
        row = (
            n,
            item.mid,
            1 + int(rng.random() * 5),
            stamp(item.t + 3600, n, epochs=True),
            make_sentence(rng, 3, 8) if rng.random() < 0.5 else None,
            flag(rng.random() < 0.3, n),
        )
        self.sink.add("my_reading_list", row)
