"""Deterministic, realistic sample data in the legacy SQLite layout (see ``legacy_layout``).

The migration tool, its tests and the benchmarks need files that look like our users' files:
mostly ISO-8601 ``...Z`` timestamps, some ``DEFAULT CURRENT_TIMESTAMP`` text, a few epoch
integers left by other tools, 0/1 booleans with a few ``'true'``/``'false'`` strings, uuid4
strings, JSON text, BLOBs, soft-deleted rows, the ChaChaNotes reference cycles, and keywords that
only differ outside ASCII. Everything comes from ``random.Random(seed)`` and fixed base times, so
the same seed always gives the same rows.

Generation streams: rows are buffered per table and written with ``executemany`` every few
thousand rows inside one transaction, with the journal off, so a 20,000-item media file takes
seconds and memory does not grow with ``size``. The FTS triggers of the layout keep the FTS tables
current while inserting (only live rows are indexed, which a ``'rebuild'`` would not respect).

Soft-delete flags (``deleted``) are always 0/1: the FTS triggers and the application test
``deleted = 0``. The ``'true'``/``'false'`` strings go to other boolean columns (``is_trash``,
``is_processed``, analytics flags, ``is_active``).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import sqlite3
import string
import struct
import sys
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .legacy_layout import (
    DEFAULT_LAYOUT,
    DEFAULT_STEPS_TABLE,
    KINDS,
    LAYOUTS,
    STEP_TABLES,
    LegacyLayout,
    create_legacy_database,
    legacy_layout,
)

__all__ = ["KINDS", "LAYOUTS", "generate", "generate_installation", "main", "row_counts"]

_FLUSH_ROWS = 4000  # rows per executemany: big enough to amortise, small enough to stay flat
_T0 = 1672531200.0  # 2023-01-01T00:00:00Z: the oldest row
_T1 = 1759926896.789  # 2025-10-08T12:34:56.789Z: the newest row
_CLIENT_IDS = ("SERVER_API_V1", "webui-7f3a9c", "desktop-2b81", "import-script", "mobile-e04d")
_CLIENT_WEIGHTS = tuple(itertools.accumulate((60, 20, 10, 6, 4)))

# --------------------------------------------------------------------------------------------
# Vocabulary: fixed (independent of the seed) so tests can search for known words.
# --------------------------------------------------------------------------------------------


def _wordlist(text: str) -> list[str]:
    """Whitespace-separated words: keeps the long word lists below readable."""
    return text.split()


_FUNCTION_WORDS = _wordlist(
    "the of and to in a is that for it with as on was this by are be from at or an which "
    "not we can has have their more these also into than its other"
)
_DOMAIN_WORDS = _wordlist(
    "data model research learning network history music database search migration server "
    "transcript video audio language system analysis patient study results climate energy "
    "market policy science engine memory protocol lecture interview podcast chapter summary "
    "question answer evidence method theory garden river mountain city ocean forest kitchen "
    "recipe coffee bread travel museum painting novel poem election economy vaccine protein "
    "galaxy planet telescope algorithm python postgres sqlite index query transaction backup "
    "teacher student library archive camera bridge harbor village winter summer"
)
_ACCENTED = _wordlist(
    "café naïve École école résumé façade über Zürich São Paulo jalapeño crème brûlée déjà "
    "piñata Ångström smörgåsbord Málaga Kraków Ελλάδα Москва coöperation señor Köln"
)
_CJK = _wordlist("東京 数据库 検索 機械学習 北京 日本語 中文 한국어 서울 音楽 研究")
_ONSETS = [*_wordlist("b br c ch d dr f g gr h j k l m n p pl qu r s sh st t th tr v w z"), ""]
_NUCLEI = _wordlist("a e i o u ai ea io ou")
_CODAS = ["", "", "", "n", "r", "s", "l", "m", "th", "x", "nd"]


def _pseudo_words(count: int) -> list[str]:
    """Pronounceable made-up words: a large, varied vocabulary that stays deterministic."""
    rng = random.Random(20251008)
    taken = set(_FUNCTION_WORDS) | set(_DOMAIN_WORDS)
    words: list[str] = []
    while len(words) < count:
        syllables = 1 + int(rng.random() * 3)
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_NUCLEI) + rng.choice(_CODAS) for _ in range(syllables)
        )
        if len(word) > 2 and word not in taken:
            taken.add(word)
            words.append(word)
    return words


def _build_vocabulary() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words, and a draw table where each word appears as often as its Zipf-like weight.

    Function words rank first, the rest are shuffled. Drawing uniformly from the table
    (``choices`` without weights) is several times faster than weighted draws, which matters
    for the millions of words a large sample needs; every word keeps at least one slot.
    """
    rest = _DOMAIN_WORDS + _ACCENTED + _CJK + _pseudo_words(3000)
    random.Random(7).shuffle(rest)
    words = tuple(_FUNCTION_WORDS + rest)
    weights = [1.0 / (rank + 8) for rank in range(len(words))]
    scale = 65536 / sum(weights)
    table = [
        w
        for w, weight in zip(words, weights, strict=True)
        for _ in range(max(1, round(weight * scale)))
    ]
    return words, tuple(table)


VOCABULARY, _WORD_DRAW = _build_vocabulary()
_FIRST_NAMES = _wordlist(
    "Ada Alan Grace Linus Zoë José Amélie Søren Chloé Wei Yuki Omar Priya Ines"
)
_LAST_NAMES = _wordlist("Lovelace Turing Hopper Torvalds Müller García Dubois Kierkegaard Li Sato")

# --------------------------------------------------------------------------------------------
# Values: text, times, uuids, flags, blobs.
# --------------------------------------------------------------------------------------------


def _words(rng: random.Random, count: int) -> list[str]:
    """*count* words drawn with Zipf-like frequencies."""
    return rng.choices(_WORD_DRAW, k=count)


def _sentence(rng: random.Random, low: int = 6, high: int = 18) -> str:
    """One capitalised sentence, the unit of all generated prose."""
    text = " ".join(_words(rng, low + int(rng.random() * (high - low + 1))))
    return text[0].upper() + text[1:] + ("?" if rng.random() < 0.06 else ".")


def _text(rng: random.Random, n_chars: int) -> str:
    """Paragraphs of sentences, at least *n_chars* long (roughly: the loop stops past it)."""
    paragraphs: list[str] = []
    length = 0
    while length < n_chars:
        paragraph = " ".join(_sentence(rng) for _ in range(2 + int(rng.random() * 5)))
        paragraphs.append(paragraph)
        length += len(paragraph) + 2
    return "\n\n".join(paragraphs)


def _title(rng: random.Random) -> str:
    """A title-cased phrase of a few words."""
    return " ".join(w[:1].upper() + w[1:] for w in _words(rng, 2 + int(rng.random() * 6)))


def _person(rng: random.Random) -> str:
    """A plausible author or creator name, accents included."""
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def _uuid4(rng: random.Random) -> str:
    """A uuid4 string from *rng* (``uuid.uuid4()`` would break determinism)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hex(rng: random.Random, digits: int) -> str:
    """Random lowercase hex, for hashes and ids that are not worth computing."""
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _iso(t: float) -> str:
    """How the application writes instants: ``2025-10-08T12:34:56.789Z``."""
    sec = int(t)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{int((t - sec) * 1000):03d}Z"


def _sql_default(t: float) -> str:
    """How ``DEFAULT CURRENT_TIMESTAMP`` writes instants: ``2025-10-08 12:34:56``."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(t)))


def _stamp(t: float, n: int, *, epochs: bool = False) -> str | int:
    """The instant *t* for row ordinal *n*, in the mix of formats real files hold.

    Mostly application ISO text; every 19th row ``DEFAULT CURRENT_TIMESTAMP`` text; with
    *epochs*, every 97th row epoch seconds and every 89th epoch milliseconds (other tools wrote
    those). Keyed on the ordinal, so the fraction is exact and deterministic.
    """
    if epochs and n % 97 == 13:
        return int(t)
    if epochs and n % 89 == 7:
        return int(t * 1000)
    if n % 19 == 5:
        return _sql_default(t)
    return _iso(t)


def _default_stamp(t: float, n: int) -> str:
    """For columns the application leaves to ``DEFAULT CURRENT_TIMESTAMP``: mostly that text."""
    return _iso(t) if n % 11 == 3 else _sql_default(t)


def _flag(value: bool, n: int) -> int | str:
    """A boolean as 0/1, or (every 37th row, as if written by hand) 'true'/'false'."""
    if n % 37 == 17:
        return "true" if value else "false"
    return int(value)


def _client(rng: random.Random) -> str:
    return rng.choices(_CLIENT_IDS, cum_weights=_CLIENT_WEIGHTS)[0]


def _embedding(rng: random.Random, dim: int = 384) -> bytes:
    """A vector as the app stores it: little-endian packed float32."""
    return struct.pack(f"<{dim}f", *[rng.random() - 0.5 for _ in range(dim)])


def _png(rng: random.Random, side: int = 16) -> bytes:
    """A small, valid PNG of noise: image BLOBs that image tools can still open."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + rng.randbytes(side * 3) for _ in range(side))
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _ascii_fold(text: str) -> str:
    """What ``COLLATE NOCASE`` compares: only ASCII letters are folded."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in text)


def _distinct_keywords(rng: random.Random, count: int, must: Sequence[str]) -> list[str]:
    """*count* keywords, distinct under NOCASE, starting with *must*."""
    seen: set[str] = set()
    out: list[str] = []
    pool = itertools.chain(must, (rng.choice(VOCABULARY) for _ in itertools.count()))
    for word in pool:
        if len(out) >= count:
            break
        candidate = word if word in must or rng.random() < 0.7 else f"{word}-{_words(rng, 1)[0]}"
        if _ascii_fold(candidate) not in seen:
            seen.add(_ascii_fold(candidate))
            out.append(candidate)
    return out


def _time_of(rng: random.Random, n: int, total: int) -> float:
    """Creation time of the *n*-th of *total* rows: spread over the history, slightly jittered."""
    return _T0 + (_T1 - _T0 - 86400.0 * 40) * (n / max(total, 1)) + rng.random() * 3600.0


# --------------------------------------------------------------------------------------------
# Writing: buffered executemany inside one transaction.
# --------------------------------------------------------------------------------------------


class _Sink:
    """Buffers rows per table and writes each buffer with one ``executemany`` when it fills.

    Foreign keys are not enforced while generating (SQLite's default), so buffers may be written
    in any order; the generators still only reference rows they create.
    """

    def __init__(self, conn: sqlite3.Connection, flush_rows: int = _FLUSH_ROWS) -> None:
        self._conn = conn
        self._flush_rows = flush_rows
        self._sql: dict[str, str] = {}
        self._rows: dict[str, list[tuple[object, ...]]] = {}

    def table(self, name: str, columns: str) -> None:
        """Declare the columns (comma separated) that ``add`` supplies for *name*."""
        marks = ", ".join("?" for _ in columns.split(","))
        self._sql[name] = f"INSERT INTO {name} ({columns}) VALUES ({marks})"
        self._rows[name] = []

    def tables(self, columns: dict[str, str]) -> None:
        """``table`` for each table -> columns entry."""
        for name, names in columns.items():
            self.table(name, names)

    def add(self, name: str, row: tuple[object, ...]) -> None:
        rows = self._rows[name]
        rows.append(row)
        if len(rows) >= self._flush_rows:
            self._write(name)

    def flush(self) -> None:
        for name in self._rows:
            self._write(name)

    def _write(self, name: str) -> None:
        rows = self._rows[name]
        if rows:
            self._conn.executemany(self._sql[name], rows)
            rows.clear()


@contextmanager
def _bulk_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """One connection tuned for a one-off bulk load: no journal, no fsync, one transaction."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MB: bounded, so memory stays flat
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("BEGIN")
        yield conn
        conn.execute("COMMIT")
    finally:
        conn.close()


def _sync(rng: random.Random, t: float, *, version: int, deleted: int, client: str) -> tuple:
    """The seven sync columns (uuid, last_modified, version, client_id, deleted, prev, merge)."""
    merge = _uuid4(rng) if rng.random() < 0.01 else None
    prev = version - 1 if version > 1 else None
    return (_uuid4(rng), _iso(t), version, client, deleted, prev, merge)


_SYNC_COLS = "uuid, last_modified, version, client_id, deleted, prev_version, merge_parent_uuid"

# --------------------------------------------------------------------------------------------
# Media_DB_v2.db
# --------------------------------------------------------------------------------------------

_MEDIA_TYPES = ("article", "pdf", "video", "document", "audio", "ebook", "obsidian_note")
_MEDIA_TYPE_CUM = tuple(itertools.accumulate((30, 20, 16, 14, 9, 6, 5)))
_DOMAINS = ("example.org", "blog.example.com", "news.example.net", "wiki.example.org")
_WHISPER = ("whisper-large-v3", "distil-whisper-large-v3", "whisper-medium.en", "whisper-small")
_STATUSES = ("completed", "pending", "processing", "failed")
_STATUS_CUM = tuple(itertools.accumulate((80, 10, 4, 6)))


def _offshoot(rng: random.Random) -> random.Random:
    """A second generator seeded from *rng*'s state without drawing from it."""
    return random.Random(hashlib.sha256(repr(rng.getstate()).encode()).digest())


class _MediaGenerator:
    """Writes one media item at a time with all its dependent rows (chunks, versions, ...).

    The core rows are drawn from *rng* in the same order whatever the layout, so an ``early``
    file holds the rows of a ``late-2025`` one minus its claims and identifiers. What only a
    ``current`` file has is drawn from a second generator (``_CurrentMediaExtras``).
    """

    CHUNKS_PER_ITEM = 4

    def __init__(
        self, sink: _Sink, rng: random.Random, size: int, owner: int | None, layout: str
    ) -> None:
        self.sink, self.rng, self.size, self.owner = sink, rng, size, owner
        self.has_claims = layout != "early"
        self.ids = {"chunk": 0, "unvec": 0, "dv": 0, "claim": 0, "transcript": 0, "log": 0}
        self.keywords: list[tuple[int, str]] = []
        self.keyword_cum: tuple[float, ...] = ()
        self._declare()
        self.extras = (
            _CurrentMediaExtras(sink, _offshoot(rng), size, owner) if layout == "current" else None
        )

    def _declare(self) -> None:
        sink = self.sink
        sink.table(
            "Media",
            "id, url, title, type, content, author, ingestion_date, transcription_model, "
            "is_trash, trash_date, vector_embedding, chunking_status, vector_processing, "
            f"content_hash, source_hash, visibility, owner_user_id, {_SYNC_COLS}",
        )
        sink.table("Keywords", f"id, keyword, {_SYNC_COLS}")
        sink.table("MediaKeywords", "media_id, keyword_id")
        sink.table(
            "Transcripts", f"id, media_id, whisper_model, transcription, created_at, {_SYNC_COLS}"
        )
        sink.table(
            "MediaChunks",
            f"id, media_id, chunk_text, start_index, end_index, chunk_id, {_SYNC_COLS}",
        )
        sink.table(
            "UnvectorizedMediaChunks",
            "id, media_id, chunk_text, chunk_index, start_char, end_char, chunk_type, "
            f"creation_date, last_modified_orig, is_processed, metadata, {_SYNC_COLS}",
        )
        sink.table(
            "DocumentVersions",
            "id, media_id, version_number, prompt, analysis_content, safe_metadata, content, "
            f"created_at, {_SYNC_COLS}",
        )
        sink.table("DocumentVersionIdentifiers", "dv_id, doi, pmid, pmcid, arxiv_id, s2_paper_id")
        sink.table(
            "Claims",
            "id, media_id, chunk_index, span_start, span_end, claim_text, confidence, extractor, "
            f"extractor_version, chunk_hash, created_at, {_SYNC_COLS}",
        )
        sink.table(
            "sync_log", "entity, entity_uuid, operation, timestamp, client_id, version, payload"
        )

    def _next(self, key: str) -> int:
        self.ids[key] += 1
        return self.ids[key]

    def log(
        self, entity: str, uid: str, op: str, t: float, client: str, version: int, payload: dict
    ) -> None:
        n = self._next("log")
        row = (entity, uid, op, _stamp(t, n, epochs=True), client, version, _json(payload))
        self.sink.add("sync_log", row + self.extras.sync_log_tail(n) if self.extras else row)

    # -- keywords --------------------------------------------------------------------------

    def write_keywords(self) -> None:
        """A few hundred distinct keywords; popularity is skewed like real tagging."""
        rng = self.rng
        count = max(24, min(self.size // 40, 800))
        words = _distinct_keywords(rng, count, ("ÉCOLE", "école", "café", "machine-learning"))
        for kid, word in enumerate(words, start=1):
            t = _T0 + rng.random() * 86400 * 30
            deleted = int(kid % 53 == 0)
            client = _client(rng)
            sync = _sync(rng, t, version=1 + deleted, deleted=deleted, client=client)
            self.sink.add("Keywords", (kid, word, *sync))
            self.log("Keywords", sync[0], "create", t, client, 1, {"keyword": word})
            if deleted:
                self.log("Keywords", sync[0], "delete", t + 60, client, 2, {"keyword": word})
            self.keywords.append((kid, sync[0]))
        self.keyword_cum = tuple(itertools.accumulate(1.0 / (r + 3) for r in range(count)))

    # -- one item ----------------------------------------------------------------------------

    def write_item(self, mid: int) -> None:
        """The Media row of item *mid* and everything hanging off it."""
        rng = self.rng
        t = _time_of(rng, mid, self.size)
        mtype = rng.choices(_MEDIA_TYPES, cum_weights=_MEDIA_TYPE_CUM)[0]
        title = _title(rng)
        content = _text(rng, 1700 + int(rng.random() * 1700))
        client = _client(rng)
        deleted = int(mid % 31 == 4)  # a deterministic ~3%, present in small samples too
        updates = (rng.random() < 0.3) + (rng.random() < 0.1)
        version = 1 + updates + deleted
        last_t = t + (rng.random() * 86400 * 20 if version > 1 else rng.random() * 5)
        status = rng.choices(_STATUSES, cum_weights=_STATUS_CUM)[0]
        sync = _sync(rng, last_t, version=version, deleted=deleted, client=client)
        uid = sync[0]
        media_row = self._media_row(mid, t, mtype, title, content, status)
        runs = self.extras.transcript_runs(mtype) if self.extras else ()
        if self.extras:
            sync += self.extras.media_tail(mid, media_row[15], runs)
        self.sink.add("Media", media_row + sync)
        self._media_log(uid, t, last_t, client, version, deleted, title, mtype)
        chunks = self._chunks(mid, uid, content, t, client, deleted)
        self._links(mid, uid, t, client)
        if mtype in ("video", "audio"):
            self._transcript(mid, content, t, client, runs)
        self._versions(mid, title, content, t, client)
        self._claims(mid, chunks, t, client, deleted)
        if status in ("pending", "processing") or rng.random() < 0.08:
            self._unvectorized(mid, chunks, t, client)
        if self.extras:
            item = _Item(mid, mtype, title, content, t, client, deleted, self.owner)
            self.extras.write_item(item)

    def _media_row(
        self, mid: int, t: float, mtype: str, title: str, content: str, status: str
    ) -> tuple:
        rng = self.rng
        trashed = mid % 29 == 11
        url = self._url(mid, mtype, title)
        return (
            mid,
            url,
            title,
            mtype,
            content,
            _person(rng) if rng.random() < 0.7 else None,
            _stamp(t, mid, epochs=True),
            rng.choice(_WHISPER) if mtype in ("video", "audio") else None,
            _flag(trashed, mid),
            _stamp(t + 86400 * 10, mid, epochs=True) if trashed else None,
            _embedding(rng) if rng.random() < 0.05 else None,
            status,
            int(status == "completed" and rng.random() < 0.7),
            _sha256(content),
            _sha256(url) if url and rng.random() < 0.6 else None,
            rng.choices(("personal", "team", "org"), cum_weights=(85, 95, 100))[0],
            self.owner,
        )

    def _url(self, mid: int, mtype: str, title: str) -> str | None:
        """Unique by construction (the item id is in it) or NULL for local uploads."""
        rng = self.rng
        slug = "-".join(title.lower().split()[:4])
        if mtype in ("video", "audio"):
            vid = "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=11))
            return f"https://www.youtube.com/watch?v={vid}&i={mid}"
        if mtype in ("article", "obsidian_note") or rng.random() < 0.5:
            return f"https://{rng.choice(_DOMAINS)}/{mid}/{slug}"
        return None

    def _media_log(
        self,
        uid: str,
        t: float,
        last_t: float,
        client: str,
        version: int,
        deleted: int,
        title: str,
        mtype: str,
    ) -> None:
        """One sync_log entry per version: create, updates, and the soft delete if any."""
        payload = {"uuid": uid, "title": title, "type": mtype}
        for v in range(1, version + 1):
            op = "create" if v == 1 else ("delete" if deleted and v == version else "update")
            when = t if v == 1 else t + (last_t - t) * (v - 1) / (version - 1)
            self.log("Media", uid, op, when, client, v, payload)

    def _chunks(
        self, mid: int, uid: str, content: str, t: float, client: str, deleted: int
    ) -> list[tuple[str, int, int]]:
        """Four slices of the content, split at a space (which belongs to neither slice).

        ``chunk_text == content[start_index:end_index]`` holds for every chunk.
        """
        spans = []
        start = 0
        for q in range(1, self.CHUNKS_PER_ITEM):
            cut = content.find(" ", max(start, len(content) * q // self.CHUNKS_PER_ITEM))
            end = cut if cut > 0 else len(content)
            spans.append((start, end))
            start = min(end + 1, len(content))
        spans.append((start, len(content)))
        chunks = []
        for index, (start, end) in enumerate(spans):
            text = content[start:end]
            chunks.append((text, start, end))
            sync = _sync(self.rng, t + 2, version=1, deleted=deleted, client=client)
            row = (self._next("chunk"), mid, text, start, end, f"{uid}_chunk_{index}", *sync)
            self.sink.add("MediaChunks", row)
        return chunks

    def _links(self, mid: int, uid: str, t: float, client: str) -> None:
        """About three keywords per item, popular ones more often."""
        rng = self.rng
        picked = {
            k[0]
            for k in rng.choices(
                self.keywords, cum_weights=self.keyword_cum, k=1 + int(rng.random() * 5)
            )
        }
        for kid in sorted(picked):
            self.sink.add("MediaKeywords", (mid, kid))
            kw_uuid = self.keywords[kid - 1][1]
            payload = {"media_uuid": uid, "keyword_uuid": kw_uuid}
            self.log("MediaKeywords", f"{uid}_{kw_uuid}", "link", t + 1, client, 1, payload)

    def _transcript(
        self, mid: int, content: str, t: float, client: str, runs: Sequence[_Run]
    ) -> None:
        """A whisper-style transcript: the content's sentences with time codes.

        A ``current`` file numbers transcription runs; a later run of the same item supersedes
        an earlier one and is stored beside it.
        """
        rng = self.rng
        lines = []
        at = 0.0
        for sentence in content.replace("\n\n", " ").split(". "):
            step = 2.0 + rng.random() * 6
            lines.append(f"[{_clock(at)} -> {_clock(at + step)}] {sentence}")
            at += step
        tid = self._next("transcript")
        sync = _sync(rng, t + 30, version=1, deleted=0, client=client)
        model = rng.choice(_WHISPER)
        row = (tid, mid, model, "\n".join(lines), _stamp(t + 30, tid, epochs=True))
        if not self.extras:
            self.sink.add("Transcripts", row + sync)
            return
        self.sink.add("Transcripts", row + sync + runs[0].tail)
        for run in runs[1:]:
            tid = self._next("transcript")
            later = t + 30 + 86400 * (run.number or 1)
            again = (tid, mid, run.model or model, "\n".join(lines[::-1]), _iso(later))
            resync = _sync(self.extras.rng, later, version=1, deleted=0, client=client)
            self.sink.add("Transcripts", again + resync + run.tail)

    def _versions(self, mid: int, title: str, content: str, t: float, client: str) -> None:
        """Version 1 is the ingested text; half the items have an edited version 2."""
        rng = self.rng
        texts = [content]
        if rng.random() < 0.35:
            texts.append(content + "\n\n" + _text(rng, 200))
        for number, text in enumerate(texts, start=1):
            dv = self._next("dv")
            prompt = "Summarize the key points of this document." if rng.random() < 0.6 else None
            analysis = _text(rng, 200) if prompt else None
            meta = {
                "title": title,
                "source": "ingest" if number == 1 else "edit",
                "words": len(text) // 6,
            }
            when = t + 60 * number
            row = (
                dv,
                mid,
                number,
                prompt,
                analysis,
                _json(meta),
                text,
                _stamp(when, dv, epochs=True),
            )
            self.sink.add(
                "DocumentVersions", row + _sync(rng, when, version=1, deleted=0, client=client)
            )
            if rng.random() < 0.15:
                identifiers = self._identifiers(dv)
                if self.has_claims:  # an early file has no identifier table
                    self.sink.add("DocumentVersionIdentifiers", identifiers)

    def _identifiers(self, dv: int) -> tuple:
        """Scholarly ids, each present in some rows only (they are indexed for lookups)."""
        rng = self.rng
        pmid = str(10_000_000 + int(rng.random() * 29_000_000))
        doi = f"10.{1000 + int(rng.random() * 8999)}/{_hex(rng, 8)}"
        return (
            dv,
            doi if rng.random() < 0.8 else None,
            pmid if rng.random() < 0.4 else None,
            f"PMC{pmid[:7]}" if rng.random() < 0.2 else None,
            _arxiv_id(rng) if rng.random() < 0.3 else None,
            _hex(rng, 40),  # the one id every identified version has
        )

    def _claims(
        self, mid: int, chunks: list[tuple[str, int, int]], t: float, client: str, deleted: int
    ) -> None:
        """About two extracted sentences per item, with spans into their chunk."""
        rng = self.rng
        for _ in range(rng.choice((0, 1, 2, 2, 3, 4))):
            index = int(rng.random() * len(chunks))
            chunk = chunks[index][0]
            sentences = [s for s in chunk.split(". ") if len(s) > 20] or [chunk]
            claim = rng.choice(sentences).strip()
            start = chunk.find(claim)
            cid = self._next("claim")
            extractor, extractor_version = rng.choice((("heuristic", "v1"), ("llm", "2025-06-01")))
            row = (
                cid,
                mid,
                index,
                start,
                start + len(claim),
                claim,
                0.35 + rng.random() * 0.64,
                extractor,
                extractor_version,
                _sha256(chunk),
                _default_stamp(t + 120, cid),
            )
            sync = _sync(
                rng, t + 120, version=1, deleted=deleted or int(rng.random() < 0.01), client=client
            )
            if self.extras:
                sync += self.extras.claim_tail(cid, claim, t + 120)
            if self.has_claims:  # drawn all the same, so the other rows match other layouts
                self.sink.add("Claims", row + sync)

    def _unvectorized(
        self, mid: int, chunks: list[tuple[str, int, int]], t: float, client: str
    ) -> None:
        """Chunks still waiting for embeddings, with their chunker's metadata."""
        rng = self.rng
        for index, (text, start, end) in enumerate(chunks):
            uv = self._next("unvec")
            meta = {"chunker": "words", "max_size": 400, "overlap": 50, "tokens": len(text) // 5}
            row = (
                uv,
                mid,
                text,
                index,
                start,
                end,
                "text",
                _stamp(t + 5, uv, epochs=True),
                _stamp(t + 5, uv + 1, epochs=True),
                _flag(rng.random() < 0.3, uv),
                _json(meta),
            )
            self.sink.add(
                "UnvectorizedMediaChunks",
                row + _sync(rng, t + 5, version=1, deleted=0, client=client),
            )


# -- what only a current (schema version 23) media file holds ----------------------------------


@dataclass(frozen=True)
class _Run:
    """One transcription run of an item, as a ``current`` file numbers them."""

    number: int | None  # None: a transcript written before runs were numbered
    supersedes: int | None
    idempotency_key: str | None
    model: str | None  # a re-run may use another model (None: the same one)

    @property
    def tail(self) -> tuple:
        """The columns v23 added to Transcripts, in order."""
        return (self.number, self.supersedes, self.idempotency_key)


@dataclass(frozen=True)
class _Item:
    """A media item just written: what the feature tables hanging off it need to know."""

    mid: int
    mtype: str
    title: str
    content: str
    t: float
    client: str
    deleted: int
    owner: int | None


_REVIEW_STATUSES = ("pending", "approved", "rejected", "flagged")
_REVIEW_STATUS_CUM = tuple(itertools.accumulate((60, 25, 8, 7)))
_FILE_KINDS = {
    "pdf": ("pdf", "application/pdf"),
    "audio": ("mp3", "audio/mpeg"),
    "video": ("mp4", "video/mp4"),
    "ebook": ("epub", "application/epub+zip"),
    "document": (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
}
_STRUCTURED_TYPES = ("pdf", "document", "ebook", "article")
_TTS_VOICES = (
    ("openai", "tts-1", "alloy"),
    ("kokoro", "kokoro-v1", "af_bella"),
    ("elevenlabs", "eleven_multilingual_v2", "Rachel"),
)
_EMAIL_LABELS = ("INBOX", "Important", "Receipts", "Travel", "Newsletters", "Étiquette")
_CONTENT_ORIGINS = ("reading", "rss", "watchlist", "import")
_CHUNKING_BUILTINS = ("words", "sentences", "paragraphs", "semantic", "tokens")
_MEDIA_MIGRATIONS = (
    "initial_schema",
    "add_sync_log",
    "add_unvectorized_chunks",
    "add_document_versions",
    "add_trash",
    "add_keywords_fts",
    "add_claims",
    "add_document_version_identifiers",
    "add_visibility_and_owner",
    "add_chunking_templates",
    "add_visual_documents",
    "add_media_files",
    "add_document_structure_index",
    "add_claims_review",
    "add_claim_clusters",
    "add_tts_history",
    "add_data_tables",
    "add_email_tables",
    "add_content_items",
    "add_reading_highlights",
    "add_org_team_scope",
    "add_transcription_runs",
    "add_unvectorized_chunks_fts",
)


class _CurrentMediaExtras:
    """The columns and tables a schema-23 media file has beyond the core.

    Draws from its own generator, so adding these rows leaves the core rows as they are.
    Each feature appears on a fixed share of items keyed on the item id, item 1 always
    included, so even a tiny sample fills every table.
    """

    def __init__(self, sink: _Sink, rng: random.Random, size: int, owner: int | None) -> None:
        self.sink, self.rng, self.size, self.owner = sink, rng, size, owner
        self.n = 0
        self.ids: dict[str, int] = {}
        # cluster id -> [canonical text, representative claim id, members, created]
        self.clusters: dict[int, list] = {}
        self._declare()

    def _declare(self) -> None:
        sink = self.sink
        sink.table(
            "Media",
            "id, url, title, type, content, author, ingestion_date, transcription_model, "
            "is_trash, trash_date, vector_embedding, chunking_status, vector_processing, "
            f"content_hash, source_hash, visibility, owner_user_id, {_SYNC_COLS}, org_id, "
            "team_id, latest_transcription_run_id, next_transcription_run_id, my_rating",
        )
        sink.table(
            "Transcripts",
            f"id, media_id, whisper_model, transcription, created_at, {_SYNC_COLS}, "
            "transcription_run_id, supersedes_run_id, idempotency_key",
        )
        sink.table(
            "Claims",
            "id, media_id, chunk_index, span_start, span_end, claim_text, confidence, extractor, "
            f"extractor_version, chunk_hash, created_at, {_SYNC_COLS}, review_status, "
            "reviewer_id, review_group, reviewed_at, review_notes, review_version, "
            "review_reason_code, claim_cluster_id",
        )
        sink.table(
            "sync_log",
            "entity, entity_uuid, operation, timestamp, client_id, version, payload, org_id, "
            "team_id",
        )
        sink.tables(_CURRENT_MEDIA_COLUMNS)

    def _tick(self) -> int:
        self.n += 1
        return self.n

    def _next(self, key: str) -> int:
        self.ids[key] = self.ids.get(key, 0) + 1
        return self.ids[key]

    # -- columns added to core tables ------------------------------------------------------

    @staticmethod
    def sync_log_tail(n: int) -> tuple[int | None, int | None]:
        """org_id, team_id of sync_log entry *n*: most changes were made outside any team."""
        if n % 14 == 0:
            return 1, 1 + n // 14 % 3
        return (1, None) if n % 7 == 0 else (None, None)

    def transcript_runs(self, mtype: str) -> tuple[_Run, ...]:
        """The transcription runs of an item: none unless audio or video, some re-runs."""
        rng = self.rng
        if mtype not in ("video", "audio"):
            return ()
        if rng.random() < 0.1:
            return (_Run(None, None, None, None),)
        runs = [_Run(1, None, self._idempotency_key(), None)]
        if rng.random() < 0.3:
            model = rng.choice(_WHISPER) if rng.random() < 0.5 else None
            runs.append(_Run(2, 1, self._idempotency_key(), model))
        return tuple(runs)

    def _idempotency_key(self) -> str | None:
        return f"tx-{_hex(self.rng, 20)}" if self.rng.random() < 0.4 else None

    def media_tail(self, mid: int, visibility: str, runs: Sequence[_Run]) -> tuple:
        """org_id, team_id, latest/next transcription run, and the user's own my_rating."""
        rng = self.rng
        numbered = [run.number for run in runs if run.number is not None]
        latest = max(numbered) if numbered else None
        rating = 1 + int(rng.random() * 5) if rng.random() < 0.15 else None
        return (
            1 if visibility in ("team", "org") else None,
            1 + mid % 3 if visibility == "team" else None,
            latest,
            latest + 1 if latest else 1,
            rating,
        )

    def claim_tail(self, cid: int, claim: str, t: float) -> tuple:
        """The review columns of claim *cid*; writes its review log entry and cluster link."""
        rng = self.rng
        status = rng.choices(_REVIEW_STATUSES, cum_weights=_REVIEW_STATUS_CUM)[0]
        cluster = self._cluster_of(cid, claim, t)
        if status == "pending":
            return (status, None, None, None, None, 1, None, cluster)
        n = self._tick()
        reviewer = 1 + int(rng.random() * 4)
        notes = _sentence(rng, 4, 10) if rng.random() < 0.5 else None
        reason = (
            rng.choice(("unsupported", "outdated", "ambiguous")) if status != "approved" else None
        )
        when = t + 86400.0 * (1 + rng.random() * 20)
        log = (cid, "pending", status, reviewer, notes, reason, 2, _default_stamp(when, n))
        self.sink.add("claims_review_log", log)
        group = rng.choice(("editors", "fact-check", None))
        return (status, reviewer, group, _stamp(when, n, epochs=True), notes, 2, reason, cluster)

    def _cluster_of(self, cid: int, claim: str, t: float) -> int | None:
        """A quarter of claims join a cluster of similar claims; some start a new one."""
        rng = self.rng
        if rng.random() >= 0.25:
            return None
        recent = list(self.clusters)[-50:]
        if recent and rng.random() < 0.7:
            cluster = rng.choice(recent)
        else:
            cluster = self._next("cluster")
            self.clusters[cluster] = [claim, cid, 0, t]
        self.clusters[cluster][2] += 1
        row = (cluster, cid, round(0.8 + rng.random() * 0.2, 4), _default_stamp(t, self._tick()))
        self.sink.add("claim_cluster_membership", row)
        return cluster

    # -- tables hanging off an item --------------------------------------------------------

    def write_item(self, item: _Item) -> None:
        self._visuals(item)
        if item.mtype in _STRUCTURED_TYPES or item.mid == 1:
            self._structure(item)
        if item.mtype in _FILE_KINDS or item.mid == 1:
            self._files(item)
        if item.mid % 12 == 1:
            self._tts(item)
        if item.mid % 25 == 1:
            self._data_table(item)
        if item.mid % 6 == 1:
            self._email(item)
        if item.mid % 4 == 1:
            self._content_item(item)
        if item.mid % 20 == 1:
            self._reading_list(item)

    def _visuals(self, item: _Item) -> None:
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
                _sentence(rng, 4, 10) if rng.random() < 0.7 else None,
                _sentence(rng) if rng.random() < 0.6 else None,
                _json(sorted(set(_words(rng, 2)))),
                f"thumbnails/{item.mid}/{vid}.jpg",
                _json({"width": 1280, "height": 720 if video else 1650, "dpi": 150}),
                _uuid4(rng),
                _default_stamp(item.t + 40, self._tick()),
                _iso(item.t + 40),
                1,
                item.client,
                item.deleted,
                None,
                None,
            )
            self.sink.add("VisualDocuments", row)

    def _structure(self, item: _Item) -> None:
        """A section spanning the content and its first paragraphs beneath it."""
        root = self._next("dsi")
        common = (_iso(item.t + 50), 1, item.client, item.deleted)
        created = _default_stamp(item.t + 50, self._tick())
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

    def _files(self, item: _Item) -> None:
        """The uploaded original, and for some items a thumbnail."""
        rng = self.rng
        ext, mime = _FILE_KINDS.get(item.mtype, ("txt", "text/plain"))
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
                _hex(rng, 64),
                _sql_default(item.t + 10),
            )
            self.sink.add(
                "MediaFiles",
                row + _sync(rng, item.t + 10, version=1, deleted=0, client=item.client),
            )

    def _tts(self, item: _Item) -> None:
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
            _sha256(text),
            len(text),
            provider,
            model,
            voice,
            rng.choice(("mp3", "wav", "opus")),
            None if failed else int(len(text) * 65 + rng.random() * 900),
            int(300 + rng.random() * 9000),
            rng.choice((1.0, 1.0, 1.25, 0.9)),
            _json({"stream": rng.random() < 0.5, "lang": "en"}),
            "failed" if failed else "success",
            "provider timeout after 60 s" if failed else None,
            None if failed else bytes(int(rng.random() * 256) for _ in range(64)),
            _flag(rng.random() < 0.2, tid),
            _stamp(when, tid, epochs=True),
            deleted,
            _iso(when + 86400) if deleted else None,
        )
        self.sink.add("tts_history", row)

    def _data_table(self, item: _Item) -> None:
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
                _sentence(rng, 3, 6),
                position,
                _default_stamp(item.t, self._tick()),
            )
            self.sink.add("data_table_columns", row)
        count = 3 + int(rng.random() * 4)
        for index in range(count):
            values = {
                "col_1": _title(rng),
                "col_2": round(rng.random() * 1000, 2),
                "col_3": _iso(item.t + 86400 * index)[:10],
            }
            body = _json(values)
            row = (
                self._next("dtrow"),
                dt,
                _uuid4(rng),
                index,
                body,
                _sha256(body)[:16],
                _default_stamp(item.t, self._tick()),
            )
            self.sink.add("data_table_rows", row)
        for k in range(1 + int(rng.random() * 2)):
            media = k == 0
            row = (
                self._next("dtsrc"),
                dt,
                item.mid if media else None,
                "media" if media else "rag_query",
                str(item.mid) if media else _hex(rng, 16),
                item.title if media else None,
                _json({"chars": len(item.content)}) if media else None,
                None if media else _json({"query": " ".join(_words(rng, 3)), "top_k": 8}),
                _default_stamp(item.t, self._tick()),
            )
            self.sink.add("data_table_sources", row)
        row = (
            dt,
            _uuid4(rng),
            f"{_title(rng)} #{dt}",
            _sentence(rng) if rng.random() < 0.6 else None,
            f"Extract a table of facts from: {item.title}",
            rng.choice(("ready", "ready", "ready", "failed", "generating")),
            count,
            rng.choice(("gpt-4o-mini", "llama-3.1-8b", "claude-3-5-haiku")),
            item.owner,
            _default_stamp(item.t + 600, self._tick()),
            _default_stamp(item.t + 700, self._tick()),
            1 + int(rng.random() < 0.3),
            item.client,
            int(dt % 7 == 4),
        )
        self.sink.add("data_tables", row)

    def _email(self, item: _Item) -> None:
        """An email ingested as this item: its participants and labels."""
        rng = self.rng
        eid = self._next("email")
        sender = self._address()
        body = _text(rng, 300 + int(rng.random() * 600))
        n = self._tick()
        row: tuple[Any, ...] = (
            eid,
            item.mid,
            f"user:{item.owner or 1}",
            f"<{_hex(rng, 24)}@mail.example.org>",
            _hex(rng, 12),
            item.title if rng.random() < 0.9 else None,
            body,
            sender[1],
            _stamp(item.t - 3600, n, epochs=True),
            _flag(rng.random() < 0.2, n),
            len(body) + int(rng.random() * 4000),
            _json({"X-Mailer": "Thunderbird", "Content-Language": rng.choice(("en", "fr", "de"))}),
            _default_stamp(item.t, n),
            _sql_default(item.t + 60),
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
                _default_stamp(item.t, self._tick()),
            )
            self.sink.add("email_labels", row)

    def _address(self) -> tuple[str | None, str]:
        """(display name, address); some addresses in capitals, as mail clients write them."""
        rng = self.rng
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        address = f"{first}.{last}@example.org"
        address = address.upper() if rng.random() < 0.1 else address.lower()
        return (f"{first} {last}" if rng.random() < 0.8 else None), address

    def _content_item(self, item: _Item) -> None:
        """A reading-list or feed entry about this item, with tags and highlights."""
        rng = self.rng
        cid = self._next("content")
        domain = rng.choice(_DOMAINS)
        url = f"https://{domain}/read/{item.mid}"
        summary = _sentence(rng)
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
            _sha256(item.content)[:32],
            len(item.content.split()),
            _stamp(item.t - 86400, n, epochs=True),
            rng.choice(("new", "reading", "read", "archived")),
            _flag(rng.random() < 0.15, n),
            round(rng.random(), 3),
            _json({"feed": domain, "lang": "en"}) if rng.random() < 0.6 else None,
            _png(rng, 8) if rng.random() < 0.1 else None,
            _default_stamp(item.t, n),
            _sql_default(item.t + 120),
        )
        self.sink.add("content_items", row)
        for tag in _distinct_keywords(rng, 1 + int(rng.random() * 3), ()):
            self.sink.add("content_item_tags", (cid, tag, _default_stamp(item.t, self._tick())))
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
                _sentence(rng, 3, 8) if rng.random() < 0.4 else None,
                rng.choice(("active", "active", "stale")),
                _default_stamp(item.t + 300, self._tick()),
            )
            self.sink.add("reading_highlights", row)

    def _reading_list(self, item: _Item) -> None:
        """The user's own table, filled by hand: epoch dates and 'true'/'false' among the rest."""
        rng = self.rng
        n = self._next("reading_list")
        row = (
            n,
            item.mid,
            1 + int(rng.random() * 5),
            _stamp(item.t + 3600, n, epochs=True),
            _sentence(rng, 3, 8) if rng.random() < 0.5 else None,
            _flag(rng.random() < 0.3, n),
        )
        self.sink.add("my_reading_list", row)

    # -- once per file -------------------------------------------------------------------------

    def finish(self) -> None:
        """Rows that do not hang off one item: clusters, chunking templates, migrations."""
        rng = self.rng
        for cluster, (text, representative, members, t) in self.clusters.items():
            row = (
                cluster,
                text,
                representative,
                members,
                0.85,
                int(rng.random() * 3),
                1 + int(members > 2),
                _default_stamp(t, self._tick()),
                _default_stamp(t + 86400, self._tick()),
            )
            self.sink.add("claim_clusters", row)
        self._chunking_templates()
        self._migrations()

    def _chunking_templates(self) -> None:
        """Built-in templates, the user's own, and a deleted one whose name a live one reuses."""
        rng = self.rng
        names = [(name, True) for name in _CHUNKING_BUILTINS]
        names += [
            (f"{_title(rng)} chunks", False) for _ in range(max(2, min(self.size // 100, 20)))
        ]
        names.append((names[-1][0], False))  # the deleted predecessor of the last one
        for tid, (name, builtin) in enumerate(names, 1):
            deleted = int(tid == len(names))
            t = _T0 + 86400.0 * (tid + rng.random())
            template = {
                "method": name if builtin else rng.choice(_CHUNKING_BUILTINS),
                "max_size": rng.choice((200, 400, 800)),
                "overlap": rng.choice((0, 50, 100)),
            }
            row = (
                tid,
                name,
                _sentence(rng, 4, 10),
                _json(template),
                _flag(builtin, tid),
                _json(["builtin"] if builtin else sorted(set(_words(rng, 2)))),
                _default_stamp(t, tid),
                _default_stamp(t + 3600, tid + 1),
                None if builtin else 1,
                None,
                None if builtin else str(self.owner or 1),
            )
            sync = _sync(
                rng, t + 3600, version=1 + deleted, deleted=deleted, client="SERVER_API_V1"
            )
            self.sink.add("ChunkingTemplates", row + sync)

    def _migrations(self) -> None:
        """The server's record of applying schema versions 1 to 23."""
        for version, name in enumerate(_MEDIA_MIGRATIONS, 1):
            t = _T0 + 86400.0 * 30 * version
            row = (
                version,
                name,
                _sha256(f"{version}:{name}"),
                _sql_default(t),
                round(0.002 + self.rng.random() * 0.8, 4),
                1,
                None,
            )
            self.sink.add("schema_migrations", row)


_CURRENT_MEDIA_COLUMNS: dict[str, str] = {
    "VisualDocuments": (
        "id, media_id, location, page_number, frame_index, timestamp_seconds, caption, "
        "ocr_text, tags, thumbnail_path, extra_metadata, uuid, created_at, last_modified, "
        "version, client_id, deleted, prev_version, merge_parent_uuid"
    ),
    "DocumentStructureIndex": (
        "id, media_id, parent_id, kind, level, title, start_char, end_char, order_index, path, "
        "created_at, last_modified, version, client_id, deleted"
    ),
    "ChunkingTemplates": (
        "id, name, description, template_json, is_builtin, tags, created_at, updated_at, "
        f"org_id, team_id, user_id, {_SYNC_COLS}"
    ),
    "MediaFiles": (
        "id, media_id, file_type, storage_path, original_filename, file_size, mime_type, "
        f"checksum, created_at, {_SYNC_COLS}"
    ),
    "schema_migrations": (
        "version, name, checksum, applied_at, execution_time, success, error_message"
    ),
    "claims_review_log": (
        "claim_id, old_status, new_status, reviewer_id, notes, reason_code, review_version, "
        "created_at"
    ),
    "claim_clusters": (
        "id, canonical_claim_text, representative_claim_id, member_count, "
        "similarity_threshold, watchlist_count, cluster_version, created_at, updated_at"
    ),
    "claim_cluster_membership": "cluster_id, claim_id, similarity_score, joined_at",
    "tts_history": (
        "id, user_id, media_id, text, text_hash, text_length, provider, model, voice_name, "
        "format, duration_ms, generation_time_ms, speed, params_json, status, error_message, "
        "waveform, favorite, created_at, deleted, deleted_at"
    ),
    "data_tables": (
        "id, uuid, name, description, prompt, status, row_count, generation_model, "
        "owner_user_id, created_at, updated_at, version, client_id, deleted"
    ),
    "data_table_columns": (
        "id, table_id, column_id, name, type, description, position, created_at"
    ),
    "data_table_rows": "id, table_id, row_id, row_index, row_json, row_hash, created_at",
    "data_table_sources": (
        "id, table_id, media_id, source_type, source_id, title, snapshot_json, "
        "retrieval_params_json, created_at"
    ),
    "email_messages": (
        "id, media_id, tenant_id, message_id, thread_key, subject, body_text, from_address, "
        "internal_date, has_attachments, size_bytes, raw_headers_json, created_at, updated_at, "
        "deleted"
    ),
    "email_participants": "id, email_message_id, role, display_name, email_address",
    "email_labels": "id, email_message_id, label, source, applied_at",
    "content_items": (
        "id, media_id, origin, url, canonical_url, domain, title, summary, content_hash, "
        "word_count, published_at, status, favorite, reading_progress, metadata_json, "
        "thumbnail, created_at, updated_at"
    ),
    "content_item_tags": "item_id, tag, created_at",
    "reading_highlights": (
        "id, item_id, quote, start_offset, end_offset, color, note, state, created_at"
    ),
    "my_reading_list": "id, media_id, priority, added, note, done",
}
"""Columns the generator supplies for each table only a current media file has."""


def _arxiv_id(rng: random.Random) -> str:
    """A new-style arXiv id such as ``2403.01234``."""
    year, month, number = 21 + int(rng.random() * 5), 1 + int(rng.random() * 12), rng.random()
    return f"{year}{month:02d}.{int(number * 99999):05d}"


def _clock(seconds: float) -> str:
    """``hh:mm:ss.mmm`` for transcript time codes."""
    ms = int(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _generate_media(sink: _Sink, rng: random.Random, size: int, plan: _Plan) -> None:
    gen = _MediaGenerator(sink, rng, size, plan.owner, plan.layout.layout)
    gen.write_keywords()
    for mid in range(1, size + 1):
        gen.write_item(mid)
    if gen.extras:
        gen.extras.finish()


# --------------------------------------------------------------------------------------------
# ChaChaNotes.db
# --------------------------------------------------------------------------------------------

_PERSONAS = (
    "Default Assistant",
    "Professor Lumen",
    "Captain Aria",
    "Chef Amélie",
    "Detective Søren",
    "Librarian Wei",
    "Coach Priya",
    "Ship AI Ω",
)
_CHACHA_TIMES = "created_at, last_modified, deleted, client_id, version"


class _ChachaGenerator:
    """Characters, conversations with threaded messages, notes, keywords and their links.

    Some conversations are forks: ``forked_from_message_id`` points at a message of an earlier
    conversation, whose ``conversation_id`` points back at conversations: the cycle a loader
    cannot order by foreign keys alone.
    """

    def __init__(self, sink: _Sink, rng: random.Random, size: int) -> None:
        self.sink, self.rng, self.size = sink, rng, size
        self.n = 0  # row ordinal, drives the deterministic mix of formats
        self.per_table: dict[str, int] = {}
        self.cards: list[tuple[int, str]] = []
        self.keyword_ids: list[int] = []
        # (conversation id, root id, message ids) of recent conversations: fork sources.
        self.recent: deque[tuple[str, str, list[str]]] = deque(maxlen=256)
        self._declare()

    def _declare(self) -> None:
        sink = self.sink
        sink.table(
            "character_cards",
            "id, name, description, personality, scenario, system_prompt, image, "
            "post_history_instructions, first_message, message_example, creator_notes, "
            f"alternate_greetings, tags, creator, character_version, extensions, {_CHACHA_TIMES}",
        )
        sink.table(
            "conversations",
            "id, root_id, forked_from_message_id, parent_conversation_id, character_id, title, "
            f"rating, {_CHACHA_TIMES}",
        )
        sink.table(
            "messages",
            "id, conversation_id, parent_message_id, sender, content, image_data, "
            "image_mime_type, timestamp, ranking, last_modified, deleted, client_id, version",
        )
        sink.table("notes", f"id, title, content, {_CHACHA_TIMES}, conversation_id, message_id")
        sink.table("keywords", f"id, keyword, {_CHACHA_TIMES}")
        sink.table("keyword_collections", f"id, name, parent_id, {_CHACHA_TIMES}")
        sink.table("conversation_keywords", "conversation_id, keyword_id, created_at")
        sink.table("collection_keywords", "collection_id, keyword_id, created_at")
        sink.table("note_keywords", "note_id, keyword_id, created_at")
        sink.table(
            "sync_log", "entity, entity_id, operation, timestamp, client_id, version, payload"
        )

    def _tick(self) -> int:
        self.n += 1
        return self.n

    def _version(self, table: str, every: int) -> tuple[int, int]:
        """(version, deleted): most rows untouched, some edited, one in *every* soft-deleted.

        Deletions are counted per table rather than drawn, so even a tiny sample has some.
        """
        count = self.per_table[table] = self.per_table.get(table, 0) + 1
        deleted = int(count % every == every // 2)
        return 1 + (self.rng.random() < 0.25) + deleted, deleted

    def _times(self, t: float, version: int, deleted: int, client: str) -> tuple:
        """created_at, last_modified, deleted, client_id, version."""
        last = t + 3600.0 * (version - 1)
        return (_stamp(t, self._tick()), _stamp(last, self._tick()), deleted, client, version)

    def _log(
        self, entity: str, key: str | int, t: float, row: tuple[int, int, str], payload: dict
    ) -> None:
        """One sync_log entry per version of an entity: create, updates, soft delete.

        *row* is (version, deleted, client_id) of the entity as written.
        """
        version, deleted, client = row
        for v in range(1, version + 1):
            op = "create" if v == 1 else ("delete" if deleted and v == version else "update")
            when = _stamp(t + 3600.0 * (v - 1), self._tick(), epochs=True)
            self.sink.add("sync_log", (entity, str(key), op, when, client, v, _json(payload)))

    # -- characters, keywords, collections ---------------------------------------------------

    def write_cards(self) -> None:
        rng = self.rng
        for cid in range(1, max(3, min(self.size // 15, 500)) + 1):
            name = _PERSONAS[cid - 1] if cid <= len(_PERSONAS) else f"{_title(rng)} {cid}"
            t = _T0 + rng.random() * 86400 * 60
            version, deleted = self._version("character_cards", 12) if cid > 1 else (1, 0)
            client = _client(rng)
            self.sink.add(
                "character_cards", self._card(cid, name) + self._times(t, version, deleted, client)
            )
            self._log("character_cards", cid, t, (version, deleted, client), {"name": name})
            self.cards.append((cid, name))

    def _card(self, cid: int, name: str) -> tuple:
        rng = self.rng
        extensions = {
            "talkativeness": round(rng.random(), 2),
            "fav": rng.random() < 0.2,
            "depth_prompt": {"prompt": _sentence(rng), "depth": 4},
        }
        return (
            cid,
            name,
            _text(rng, 200),
            ", ".join(_words(rng, 4)),
            _sentence(rng),
            f"You are {name}. {_sentence(rng)}",
            _png(rng) if cid % 4 == 1 else None,
            _sentence(rng) if rng.random() < 0.3 else None,
            f"Hello! I am {name}. {_sentence(rng)}",
            f"<START>\n{{{{user}}}}: {_sentence(rng)}\n{{{{char}}}}: {_sentence(rng)}",
            _sentence(rng) if rng.random() < 0.5 else None,
            _json([_sentence(rng) for _ in range(int(rng.random() * 3))]),
            _json(sorted(set(_words(rng, 3)))),
            _person(rng),
            rng.choice(("1.0", "1.1", "2.0")),
            _json(extensions),
        )

    def write_keywords(self) -> None:
        """Keywords distinct under NOCASE, including 'ÉCOLE' and 'école' (NOCASE is ASCII-only)."""
        rng = self.rng
        count = max(12, min(self.size // 4, 400))
        for kid, word in enumerate(_distinct_keywords(rng, count, ("ÉCOLE", "école", "Café")), 1):
            t = _T0 + rng.random() * 86400 * 90
            version, deleted = self._version("keywords", 50) if kid > 3 else (1, 0)
            client = _client(rng)
            self.sink.add("keywords", (kid, word, *self._times(t, version, deleted, client)))
            self._log("keywords", kid, t, (version, deleted, client), {"keyword": word})
            self.keyword_ids.append(kid)

    def write_collections(self) -> None:
        """A forest of collections: parents always earlier, some roots."""
        rng = self.rng
        count = max(4, min(self.size // 20, 200))
        for cid in range(1, count + 1):
            parent = rng.randrange(1, cid) if cid > 2 and cid % 4 != 0 else None
            name = f"{_title(rng)} #{cid}"
            t = _T0 + rng.random() * 86400 * 90
            version, deleted = self._version("keyword_collections", 50)
            client = _client(rng)
            row = (cid, name, parent, *self._times(t, version, deleted, client))
            self.sink.add("keyword_collections", row)
            self._log("keyword_collections", cid, t, (version, deleted, client), {"name": name})
            for kid in self._some_keywords(1, 6):
                self.sink.add("collection_keywords", (cid, kid, _default_stamp(t, self._tick())))

    def _some_keywords(self, low: int, high: int) -> list[int]:
        count = min(low + int(self.rng.random() * (high - low + 1)), len(self.keyword_ids))
        return sorted(self.rng.sample(self.keyword_ids, count))

    # -- conversations, messages, notes ------------------------------------------------------

    def write_conversation(self, ordinal: int) -> None:
        rng = self.rng
        t = _time_of(rng, ordinal, self.size)
        conv_id = _uuid4(rng)
        root_id, forked_from, parent_conv = conv_id, None, None
        if self.recent and ordinal % 10 == 5:  # one conversation in ten is a fork
            parent_conv, root_id, source_messages = rng.choice(self.recent)
            forked_from = rng.choice(source_messages)
        card_id, card_name = rng.choice(self.cards)
        title = _title(rng) if rng.random() < 0.9 else None
        rating = 1 + int(rng.random() * 5) if rng.random() < 0.4 else None
        version, deleted = self._version("conversations", 25)
        client = _client(rng)
        head = (conv_id, root_id, forked_from, parent_conv, card_id, title, rating)
        self.sink.add("conversations", head + self._times(t, version, deleted, client))
        self._log("conversations", conv_id, t, (version, deleted, client), {"title": title})
        messages = self._messages(conv_id, card_name, t, client)
        self.recent.append((conv_id, root_id, messages))
        for kid in self._some_keywords(0, 3):
            self.sink.add("conversation_keywords", (conv_id, kid, _default_stamp(t, self._tick())))
        if rng.random() < 0.5:
            message = rng.choice(messages) if rng.random() < 0.5 else None
            self._note(t + 600, conv_id, message)
        if rng.random() < 0.5:
            self._note(t + 900, None, None)

    def _messages(self, conv_id: str, card_name: str, t: float, client: str) -> list[str]:
        """A thread: each message answers the previous one, some are regenerated branches."""
        rng = self.rng
        ids: list[str] = []
        at = t
        for k in range(2 + int(rng.random() * 14)):
            message_id = _uuid4(rng)
            branch = k > 1 and rng.random() < 0.08
            parent = (rng.choice(ids[:-1]) if branch else ids[-1]) if ids else None
            image = _png(rng, 8) if rng.random() < 0.01 else None
            at += 5 + rng.random() * 300
            version, deleted = self._version("messages", 50)
            row = (
                message_id,
                conv_id,
                parent,
                "user" if k % 2 == 0 else card_name,
                _text(rng, 60 + int(rng.random() * 900)),
                image,
                "image/png" if image else None,
                _stamp(at, self._tick(), epochs=True),
                1 + int(rng.random() * 3) if branch else None,
                _stamp(at + 3600.0 * (version - 1), self._tick()),
                deleted,
                client,
                version,
            )
            self.sink.add("messages", row)
            payload = {"conversation_id": conv_id, "sender": row[3]}
            self._log("messages", message_id, at, (version, deleted, client), payload)
            ids.append(message_id)
        return ids

    def _note(self, t: float, conv_id: str | None, message_id: str | None) -> None:
        """A markdown note, sometimes attached to a conversation or one of its messages."""
        rng = self.rng
        note_id = _uuid4(rng)
        title = _title(rng)
        bullets = "\n".join(f"- {_sentence(rng, 3, 8)}" for _ in range(int(rng.random() * 4)))
        content = f"# {title}\n\n{_text(rng, 200 + int(rng.random() * 1500))}\n\n{bullets}"
        version, deleted = self._version("notes", 30)
        client = _client(rng)
        created = _stamp(t, self._tick(), epochs=True)
        last = _stamp(t + 3600.0 * (version - 1), self._tick())
        row = (
            note_id,
            title,
            content,
            created,
            last,
            deleted,
            client,
            version,
            conv_id,
            message_id,
        )
        self.sink.add("notes", row)
        self._log("notes", note_id, t, (version, deleted, client), {"title": title})
        for kid in self._some_keywords(0, 3):
            self.sink.add("note_keywords", (note_id, kid, _default_stamp(t, self._tick())))


def _generate_chacha(sink: _Sink, rng: random.Random, size: int, plan: _Plan) -> None:
    gen = _ChachaGenerator(sink, rng, size)
    gen.write_cards()
    gen.write_keywords()
    gen.write_collections()
    for ordinal in range(1, size + 1):
        gen.write_conversation(ordinal)


# --------------------------------------------------------------------------------------------
# Analytics.db
# --------------------------------------------------------------------------------------------

_SEARCH_TYPES = ("hybrid", "fts", "vector", "keyword")
_FEATURES = ("rag_search", "chat", "notes", "media_ingest", "workflows", "tts", "export")
_COMPONENTS = ("retriever", "reranker", "embedder", "llm", "api", "db")
_DOCUMENT_TYPES = ("pdf", "article", "transcript", "note", "ebook")
_CITATION_STYLES = ("apa", "mla", "chicago", "ieee", "bibtex")
_AB_TESTS = (
    ("reranker-v2", ("control", "cross-encoder")),
    ("chunk-size", ("400", "800")),
    ("hybrid-weight", ("0.3", "0.5", "0.7")),
)
_ERRORS = (
    ("TimeoutError", "network"),
    ("OperationalError", "database"),
    ("HTTPError", "provider"),
    ("ValueError", "input"),
)
_ANALYTICS_COLUMNS: dict[str, str] = {
    "search_analytics": (
        "timestamp, query_hash, query_length, query_complexity, search_type, results_count, "
        "max_score, avg_score, response_time_ms, cache_hit, reranking_used, expansion_used, "
        "filters_used, error_occurred, error_type"
    ),
    "document_performance": (
        "timestamp, document_hash, document_type, chunk_size, retrieval_count, "
        "avg_relevance_score, citation_count, feedback_positive, feedback_negative, last_accessed"
    ),
    "feedback_analytics": (
        "timestamp, session_hash, query_hash, feedback_type, rating, response_quality, "
        "retrieval_accuracy, response_time_acceptable, categories, improvement_areas"
    ),
    "citation_analytics": (
        "timestamp, citation_style, document_count, chunk_count, verification_requested, "
        "format_errors, generation_time_ms"
    ),
    "error_tracking": (
        "timestamp, error_type, error_category, error_hash, component, severity, frequency, "
        "resolved, resolution_time, stack_trace_hash"
    ),
    "system_performance": (
        "timestamp, metric_type, metric_value, component, operation, duration_ms, memory_mb, "
        "cpu_percent"
    ),
    "feature_usage": (
        "timestamp, feature_name, usage_count, success_count, failure_count, "
        "avg_execution_time_ms, last_used"
    ),
    "query_patterns": (
        "pattern_hash, pattern_type, frequency, avg_results_quality, avg_response_time_ms, "
        "first_seen, last_seen"
    ),
    "ab_testing": (
        "timestamp, test_name, variant, session_hash, metric_name, metric_value, conversion"
    ),
    "analytics_events": "timestamp, event_type, query_hash, metrics",
}


def _analytics_stamp(t: float, n: int) -> str | int:
    """``timestamp`` columns are filled by their DEFAULT, except where other tools wrote."""
    if n % 97 == 13:
        return int(t)
    if n % 89 == 7:
        return int(t * 1000)
    return _default_stamp(t, n)


class _AnalyticsGenerator:
    """One search per ordinal, with the document, feedback, citation, error, usage and
    experiment rows around it; the query patterns seen are summarised at the end.

    Every optional row kind is also written for the first search, so even a tiny sample
    fills every table.
    """

    def __init__(self, sink: _Sink, rng: random.Random, size: int) -> None:
        self.sink, self.rng, self.size = sink, rng, size
        self.n = 0
        queries = (
            " ".join(_words(rng, 1 + int(rng.random() * 6))) for _ in range(max(10, size // 5))
        )
        self.queries = [(_sha256(q)[:16], len(q)) for q in queries]
        # pattern hash -> [pattern type, searches, summed quality, summed ms, first, last]
        self.patterns: dict[str, list] = {}
        self.sessions = [_hex(rng, 16) for _ in range(max(4, size // 20))]
        sink.tables(_ANALYTICS_COLUMNS)

    def _tick(self) -> int:
        self.n += 1
        return self.n

    def write(self, ordinal: int) -> None:
        rng = self.rng
        first = ordinal == 1
        t = _time_of(rng, ordinal, self.size)
        query_hash, length = rng.choice(self.queries)
        self._search(t, query_hash, length)
        for _ in range(int(rng.random() * 4) or int(first)):
            self._document(t + 1)
        if rng.random() < 0.1 or first:
            self._feedback(t + 30, query_hash)
        if rng.random() < 0.15 or first:
            self._citation(t + 5)
        if rng.random() < 0.05 or first:
            self._error(t + 1)
        if ordinal % 5 == 0 or first:
            self._system(t)
        if rng.random() < 0.15 or first:
            self._feature(t)
        if rng.random() < 0.1 or first:
            self._experiment(t)
        if rng.random() < 0.3 or first:
            metrics = {
                "latency_ms": round(rng.random() * 900, 1),
                "tokens": int(rng.random() * 4000),
            }
            row = (
                _analytics_stamp(t, self._tick()),
                rng.choice(("search", "rerank", "answer")),
                query_hash,
                _json(metrics),
            )
            self.sink.add("analytics_events", row)

    def _search(self, t: float, query_hash: str, length: int) -> None:
        rng = self.rng
        n = self._tick()
        error = rng.random() < 0.03
        results = 0 if error else int(rng.random() * 50)
        max_score = rng.random() if results else None
        filters = (
            _json({"media_type": rng.choice(("pdf", "video", "any"))})
            if rng.random() < 0.3
            else None
        )
        complexity = rng.choice(("simple", "moderate", "complex"))
        elapsed = int(20 + rng.random() * 1500)
        self.sink.add(
            "search_analytics",
            (
                _analytics_stamp(t, n),
                query_hash,
                length,
                complexity,
                rng.choice(_SEARCH_TYPES),
                results,
                max_score,
                max_score * (0.4 + rng.random() * 0.5) if max_score is not None else None,
                elapsed,
                _flag(rng.random() < 0.25, n),
                _flag(rng.random() < 0.5, n + 1),
                _flag(rng.random() < 0.2, n + 2),
                filters,
                _flag(error, n + 3),
                rng.choice(("timeout", "db_error", "llm_error")) if error else None,
            ),
        )
        self._seen_pattern(complexity, length, max_score or 0.0, elapsed, t)

    def _seen_pattern(self, kind: str, length: int, quality: float, ms: int, t: float) -> None:
        """Searches of one shape (complexity and length bucket) share a pattern."""
        key = _sha256(f"{kind}:{length // 10}")[:32]
        pattern = self.patterns.setdefault(key, [kind, 0, 0.0, 0, t, t])
        pattern[1] += 1
        pattern[2] += quality
        pattern[3] += ms
        pattern[5] = t

    def _document(self, t: float) -> None:
        rng = self.rng
        n = self._tick()
        retrieved = 1 + int(rng.random() * 40)
        row = (
            _analytics_stamp(t, n),
            _sha256(str(1 + int(rng.random() * 20000)))[:32],
            rng.choice(_DOCUMENT_TYPES),
            rng.choice((256, 512, 1024)),
            retrieved,
            round(rng.random(), 4),
            int(rng.random() * retrieved / 2),
            int(rng.random() * 4),
            int(rng.random() * 2),
            _analytics_stamp(t + 60, n + 1),
        )
        self.sink.add("document_performance", row)

    def _feedback(self, t: float, query_hash: str) -> None:
        rng = self.rng
        n = self._tick()
        kind = rng.choice(("thumbs", "rating", "comment"))
        row = (
            _analytics_stamp(t, n),
            rng.choice(self.sessions),
            query_hash,
            kind,
            1 + int(rng.random() * 5) if kind == "rating" else None,
            rng.choice(("good", "acceptable", "poor")),
            rng.choice(("accurate", "partial", "wrong", None)),
            _flag(rng.random() < 0.8, n),
            _json(sorted(set(rng.choices(("relevance", "speed", "citations", "tone"), k=2)))),
            _json(["speed"] if rng.random() < 0.3 else []),
        )
        self.sink.add("feedback_analytics", row)

    def _citation(self, t: float) -> None:
        rng = self.rng
        n = self._tick()
        documents = 1 + int(rng.random() * 8)
        row = (
            _analytics_stamp(t, n),
            rng.choice(_CITATION_STYLES),
            documents,
            documents + int(rng.random() * 12),
            _flag(rng.random() < 0.3, n),
            int(rng.random() < 0.1),
            int(5 + rng.random() * 400),
        )
        self.sink.add("citation_analytics", row)

    def _error(self, t: float) -> None:
        rng = self.rng
        n = self._tick()
        error_type, category = rng.choice(_ERRORS)
        resolved = rng.random() < 0.4
        row = (
            _analytics_stamp(t, n),
            error_type,
            category,
            _hex(rng, 16),
            rng.choice(_COMPONENTS),
            rng.choice(("warning", "error", "critical")),
            1 + int(rng.random() * 20),
            _flag(resolved, n),
            _analytics_stamp(t + 86400 * rng.random() * 5, n + 1) if resolved else None,
            _hex(rng, 16) if rng.random() < 0.8 else None,
        )
        self.sink.add("error_tracking", row)

    def _system(self, t: float) -> None:
        rng = self.rng
        metric, scale = rng.choice(
            (("latency", 2000.0), ("throughput", 50.0), ("queue_depth", 30.0))
        )
        row = (
            _analytics_stamp(t, self._tick()),
            metric,
            round(rng.random() * scale, 3),
            rng.choice(_COMPONENTS),
            rng.choice(("search", "embed", "rerank", "ingest")),
            int(rng.random() * 3000),
            round(200 + rng.random() * 7800, 1),
            round(rng.random() * 100, 1),
        )
        self.sink.add("system_performance", row)

    def _feature(self, t: float) -> None:
        rng = self.rng
        n = self._tick()
        uses = 1 + int(rng.random() * 10)
        failures = int(rng.random() * 2)
        row = (
            _analytics_stamp(t, n),
            rng.choice(_FEATURES),
            uses,
            uses - failures,
            failures,
            int(5 + rng.random() * 2000),
            _analytics_stamp(t + 30, n + 1),
        )
        self.sink.add("feature_usage", row)

    def _experiment(self, t: float) -> None:
        rng = self.rng
        n = self._tick()
        test, variants = rng.choice(_AB_TESTS)
        row = (
            _analytics_stamp(t, n),
            test,
            rng.choice(variants),
            rng.choice(self.sessions),
            rng.choice(("ndcg@10", "click_through", "answer_rating")),
            round(rng.random(), 4),
            _flag(rng.random() < 0.2, n),
        )
        self.sink.add("ab_testing", row)

    def finish(self) -> None:
        """One query_patterns row per pattern seen (pattern_hash is UNIQUE)."""
        for key, (kind, count, quality, ms, first, last) in self.patterns.items():
            n = self._tick()
            row = (
                key,
                kind,
                count,
                round(quality / count, 4),
                int(ms / count),
                _analytics_stamp(first, n),
                _analytics_stamp(last, n + 1),
            )
            self.sink.add("query_patterns", row)


def _generate_analytics(sink: _Sink, rng: random.Random, size: int, plan: _Plan) -> None:
    gen = _AnalyticsGenerator(sink, rng, size)
    for ordinal in range(1, size + 1):
        gen.write(ordinal)
    gen.finish()


# --------------------------------------------------------------------------------------------
# workflows.db
# --------------------------------------------------------------------------------------------

_RUN_STATUSES = (
    "queued",
    "running",
    "paused",
    "waiting_human",
    "waiting_approval",
    "succeeded",
    "failed",
    "cancelled",
)
_RUN_STATUS_CUM = tuple(itertools.accumulate((8, 7, 3, 5, 4, 55, 12, 6)))
_WORKFLOW_NAMES = (
    "daily-digest",
    "podcast-transcribe",
    "paper-triage",
    "meeting-notes",
    "web-clipper",
    "study-cards",
    "inbox-zero",
    "rss-summaries",
    "video-chapters",
    "citation-check",
    "translate-École",
    "weekly-report",
)
# Step types our server registers (``Workflows/steps``) and can run from the run alone, and
# types it does not register that current servers do: users' definitions use both.
_RUNNABLE_STEPS = ("log", "delay", "prompt")
_FOREIGN_STEPS = ("llm", "tts", "summarize", "notify")
# The first definitions: one runnable, one that waits for a human, one that uses types our
# server lacks and waits for an approval; later ones are drawn, one in four with a type our
# server lacks.
_RECIPES: tuple[tuple[str, ...], ...] = (
    ("log", "prompt", "log"),
    ("log", "wait_for_human", "prompt", "delay"),
    ("prompt", "summarize", "wait_for_approval", "log"),
)
_TERMINAL_EVENT = {
    "succeeded": "run_completed",
    "failed": "run_failed",
    "cancelled": "run_cancelled",
    "paused": "run_paused",
    "waiting_human": "waiting_human",
    "waiting_approval": "waiting_approval",
}


@dataclass(frozen=True)
class _Definition:
    """One version of a workflow as its row holds it."""

    wid: int
    tenant: str
    name: str
    version: int
    steps: list[dict]

    def step_index(self, kind: str) -> int | None:
        return next((i for i, step in enumerate(self.steps) if step["type"] == kind), None)


class _WorkflowGenerator:
    """Definitions, then runs in every status with their step runs, events and artifacts."""

    def __init__(self, sink: _Sink, rng: random.Random, size: int, steps_table: str) -> None:
        self.sink, self.rng, self.size, self.steps_table = sink, rng, size, steps_table
        self.n = 0
        self.definitions: list[_Definition] = []
        self.last_step_run_id: str | None = None  # artifacts belong to a run's last step
        sink.table(
            "workflows",
            "id, tenant_id, name, version, owner_id, visibility, description, tags, "
            "definition_json, created_at, updated_at, is_active",
        )
        sink.table(
            "workflow_runs",
            "run_id, tenant_id, workflow_id, status, status_reason, user_id, inputs_json, "
            "outputs_json, error, duration_ms, created_at, started_at, ended_at, "
            "definition_version, definition_snapshot_json, idempotency_key, cancel_requested",
        )
        sink.table(
            steps_table,
            "step_run_id, tenant_id, run_id, step_id, name, type, status, attempt, started_at, "
            "ended_at, inputs_json, outputs_json, error, locked_by, locked_at, lock_expires_at, "
            "heartbeat_at",
        )
        sink.table(
            "workflow_events",
            "tenant_id, run_id, step_run_id, event_seq, event_type, payload_json, created_at",
        )
        sink.table(
            "workflow_artifacts",
            "artifact_id, tenant_id, run_id, step_run_id, type, uri, size_bytes, mime_type, "
            "checksum_sha256, metadata_json, created_at",
        )

    def _tick(self) -> int:
        self.n += 1
        return self.n

    def write_definitions(self) -> None:
        """A few named workflows, some with several versions (UNIQUE(tenant, name, version))."""
        rng = self.rng
        wid = 0
        count = max(3, min(self.size // 25, len(_WORKFLOW_NAMES)))
        for index, name in enumerate(_WORKFLOW_NAMES[:count]):
            tenant = "default" if rng.random() < 0.85 else "acme"
            types = (
                _RECIPES[index]
                if index < len(_RECIPES)
                else self._drawn_step_types(foreign=index % 4 == 3)
            )
            for version in range(1, 2 + int(rng.random() * 3)):
                wid += 1
                versioned = types + ("log",) * (version - 1)  # later versions log more
                steps = [
                    self._step_definition(k, kind, len(versioned))
                    for k, kind in enumerate(versioned, 1)
                ]
                definition = {
                    "name": name,
                    "version": version,
                    "inputs": {"query": "string"},
                    "steps": steps,
                }
                t = _T0 + 86400.0 * (wid * 7 + rng.random())
                row = (
                    wid,
                    tenant,
                    name,
                    version,
                    str(1 + int(rng.random() * 3)),
                    rng.choice(("private", "private", "team", "public")),
                    _sentence(rng),
                    _json(sorted(set(_words(rng, 2)))),
                    _json(definition),
                    _stamp(t, self._tick()),
                    _stamp(t + 86400.0 * rng.random() * 30, self._tick()),
                    _flag(rng.random() < 0.9, wid),
                )
                self.sink.add("workflows", row)
                self.definitions.append(_Definition(wid, tenant, name, version, steps))

    def _drawn_step_types(self, *, foreign: bool) -> tuple[str, ...]:
        """Two to five steps our server can run, one of them replaced when *foreign* by a type
        only newer servers have."""
        rng = self.rng
        types = [rng.choice(_RUNNABLE_STEPS) for _ in range(2 + int(rng.random() * 4))]
        if foreign:
            types[int(rng.random() * len(types))] = rng.choice(_FOREIGN_STEPS)
        return tuple(types)

    def _step_definition(self, k: int, kind: str, count: int) -> dict:
        """Step *k* of *count*: id, type, name, config, and the optional keys users' files have."""
        rng = self.rng
        step: dict[str, Any] = {
            "id": f"s{k}",
            "type": kind,
            "name": _title(rng),
            "config": self._config(kind),
        }
        if rng.random() < 0.3:
            step["retry"] = {"max_attempts": 1 + int(rng.random() * 3), "backoff_seconds": 1}
        if rng.random() < 0.3:
            step["timeout_seconds"] = 30 * (1 + int(rng.random() * 10))
        if rng.random() < 0.2:
            step["on_success"] = f"s{k + 1}" if k < count else "end"
        if rng.random() < 0.15:
            step["on_failure"] = "end"
        return step

    def _config(self, kind: str) -> dict:
        """A configuration our step type accepts, or what a newer server's type took."""
        rng = self.rng
        configs: dict[str, Callable[[], dict[str, Any]]] = {
            "log": lambda: {
                "message": f"{_sentence(rng, 3, 6)} {{{{ inputs.query }}}}",
                "level": rng.choice(("info", "info", "debug", "warning")),
            },
            "delay": lambda: {"seconds": round(0.05 + rng.random() * 0.45, 2)},
            "prompt": lambda: {"template": "Summarise what we know about {{ inputs.query }}."},
            "wait_for_human": lambda: {"prompt": "Check the draft for {{ inputs.query }}"},
            "wait_for_approval": lambda: {"approvers": ["1"], "message": "Publish the triage?"},
            "llm": lambda: {
                "model": "gpt-4o-mini",
                "prompt": "{{ inputs.query }}",
                "temperature": 0.2,
            },
            "tts": lambda: {
                "voice": "alloy",
                "text": "{{ steps.s1.output.text }}",
                "format": "mp3",
            },
            "summarize": lambda: {"max_words": 200, "style": "bullets"},
            "notify": lambda: {"channel": "email", "to": "me@example.org"},
        }
        return configs[kind]()

    def write_run(self, ordinal: int) -> None:
        """One run: its status decides how far its steps got; events are numbered 1, 2, 3..."""
        rng = self.rng
        status = (
            _RUN_STATUSES[ordinal - 1]
            if ordinal <= len(_RUN_STATUSES)
            else rng.choices(_RUN_STATUSES, cum_weights=_RUN_STATUS_CUM)[0]
        )
        definition = self._definition_for(status, ordinal)
        tenant, steps = definition.tenant, definition.steps
        run_id = _uuid4(rng)
        t = _time_of(rng, ordinal, self.size)
        if status not in ("succeeded", "failed", "cancelled"):
            t = _T1 - rng.random() * 86400 * 3  # unfinished runs are recent ones
        self.last_step_run_id = None
        events = _EventLog(self, tenant, run_id)
        events.add(None, "run_created", {"status": "queued"}, t)
        started = None if status == "queued" else t + 0.5 + rng.random() * 30
        at = started or t
        if started is not None:
            events.add(None, "run_started", {}, started)
            at = self._steps(tenant, run_id, status, steps, events, started)
        ended = at if status in ("succeeded", "failed", "cancelled") else None
        if status in _TERMINAL_EVENT:
            events.add(None, _TERMINAL_EVENT[status], {"status": status}, at)
        self._run_row(run_id, definition, status, t, started, ended)
        if status == "succeeded" and rng.random() < 0.4:
            self._artifacts(tenant, run_id, self.last_step_run_id, ended or at)

    def _definition_for(self, status: str, ordinal: int) -> _Definition:
        """A run waiting for a human or an approval runs a definition with such a step; the
        first run (queued) one our server can run."""
        if ordinal == 1:
            return self.definitions[0]
        waits_on = {"waiting_human": "wait_for_human", "waiting_approval": "wait_for_approval"}
        if status in waits_on:
            candidates = [d for d in self.definitions if d.step_index(waits_on[status]) is not None]
            return self.rng.choice(candidates)
        return self.rng.choice(self.definitions)

    def _run_row(
        self,
        run_id: str,
        definition: _Definition,
        status: str,
        t: float,
        started: float | None,
        ended: float | None,
    ) -> None:
        rng = self.rng
        tenant, wid, version = definition.tenant, definition.wid, definition.version
        reasons = {
            "paused": "paused by user",
            "cancelled": "cancelled by user",
            "failed": "step_failed",
            "waiting_human": "awaiting input",
            "waiting_approval": "awaiting reviewer",
        }
        row = (
            run_id,
            tenant,
            wid,
            status,
            reasons.get(status),
            str(1 + int(rng.random() * 5)),
            _json({"query": " ".join(_words(rng, 3)), "media_id": 1 + int(rng.random() * 200)}),
            _json({"summary": _sentence(rng)}) if status == "succeeded" else None,
            "StepError: webhook returned HTTP 502" if status == "failed" else None,
            int((ended - started) * 1000) if ended and started else None,
            _stamp(t, self._tick()),
            _stamp(started, self._tick()) if started else None,
            _stamp(ended, self._tick()) if ended else None,
            version,
            self._snapshot(definition, status),
            f"idem-{_hex(rng, 16)}" if rng.random() < 0.3 else None,
            int(status == "cancelled" and rng.random() < 0.9),
        )
        self.sink.add("workflow_runs", row)

    def _snapshot(self, definition: _Definition, status: str) -> str | None:
        """The definition as the run took it. Queued runs always have one, and it has no
        ``name``: older servers copied only what running needs. Others: most have one,
        half of those without the name."""
        rng = self.rng
        if status != "queued" and rng.random() >= 0.8:
            return None
        snapshot: dict = {"version": definition.version, "steps": definition.steps}
        if status != "queued" and rng.random() < 0.5:
            snapshot = {"name": definition.name, **snapshot}
        return _json(snapshot)

    def _steps(
        self,
        tenant: str,
        run_id: str,
        status: str,
        steps: list[dict],
        events: _EventLog,
        at: float,
    ) -> float:
        """Step runs as far as *status* implies; returns the time the run got to."""
        rng = self.rng
        waits_on = {"waiting_human": "wait_for_human", "waiting_approval": "wait_for_approval"}
        waiting = [i for i, s in enumerate(steps) if s["type"] == waits_on.get(status)]
        if status == "succeeded":
            done, current = len(steps), None
        elif waiting:  # parked on the step that waits
            done, current = waiting[0], status
        else:
            done = int(rng.random() * len(steps))
            current = {
                "failed": "failed",
                "cancelled": "cancelled",
                "running": "running",
                "waiting_human": "waiting_human",
                "waiting_approval": "waiting_approval",
            }.get(status)
        for index, step in enumerate(steps[: done + (current is not None)]):
            step_status = "succeeded" if index < done else str(current)
            at = self._step(tenant, run_id, step, step_status, events, at)
        return at

    def _step(
        self, tenant: str, run_id: str, step: dict, status: str, events: _EventLog, at: float
    ) -> float:
        rng = self.rng
        step_run_id = self.last_step_run_id = _uuid4(rng)
        attempt = 1 if rng.random() < 0.1 else 0
        events.add(step_run_id, "step_started", {"step_id": step["id"], "attempt": attempt}, at)
        end = at + 0.2 + rng.random() * 40
        finished = status in ("succeeded", "failed", "cancelled")
        live = status == "running"
        row = (
            step_run_id,
            tenant,
            run_id,
            step["id"],
            step["name"],
            step["type"],
            status,
            attempt,
            _stamp(at, self._tick()),
            _stamp(end, self._tick()) if finished else None,
            _json({"step": step["id"], "config": step["config"]}),
            _json({"ok": True, "chars": int(rng.random() * 5000)})
            if status == "succeeded"
            else None,
            "HTTP 502 from webhook" if status == "failed" else None,
            "worker-2" if live else None,
            _stamp(at, self._tick()) if live else None,
            _stamp(at + 300, self._tick()) if live else None,
            _stamp(at + 25, self._tick()) if live else None,
        )
        self.sink.add(self.steps_table, row)
        if finished:
            kind = {"succeeded": "step_completed", "failed": "step_failed"}.get(
                status, "step_cancelled"
            )
            events.add(step_run_id, kind, {"step_id": step["id"]}, end)
        return end if finished else at + 1

    def _artifacts(self, tenant: str, run_id: str, step_run_id: str | None, t: float) -> None:
        rng = self.rng
        for _ in range(1 + int(rng.random() * 2)):
            artifact_id = _uuid4(rng)
            kind, mime, ext = rng.choice(
                (
                    ("report", "text/markdown", "md"),
                    ("audio", "audio/mpeg", "mp3"),
                    ("export", "application/json", "json"),
                )
            )
            row = (
                artifact_id,
                tenant,
                run_id,
                step_run_id,
                kind,
                f"file:///var/lib/tldw/artifacts/{run_id}/{artifact_id}.{ext}",
                int(rng.random() * 5_000_000),
                mime,
                _hex(rng, 64),
                _json({"created_by": "workflow", "encoding": "utf-8"}),
                _stamp(t, self._tick()),
            )
            self.sink.add("workflow_artifacts", row)


class _EventLog:
    """The events of one run, numbered from 1 without gaps (UNIQUE(run_id, event_seq))."""

    def __init__(self, gen: _WorkflowGenerator, tenant: str, run_id: str) -> None:
        self.gen, self.tenant, self.run_id, self.seq = gen, tenant, run_id, 0

    def add(self, step_run_id: str | None, event_type: str, payload: dict, t: float) -> None:
        self.seq += 1
        when = _stamp(t, self.gen._tick())
        row = (self.tenant, self.run_id, step_run_id, self.seq, event_type, _json(payload), when)
        self.gen.sink.add("workflow_events", row)


def _generate_workflows(sink: _Sink, rng: random.Random, size: int, plan: _Plan) -> None:
    gen = _WorkflowGenerator(sink, rng, size, plan.steps_table)
    gen.write_definitions()
    for ordinal in range(1, size + 1):
        gen.write_run(ordinal)


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What a generator needs besides its rows' count: whose file it is and its layout."""

    owner: int | None
    layout: LegacyLayout
    steps_table: str


_Generator = Callable[[_Sink, random.Random, int, _Plan], None]
_GENERATORS: dict[str, _Generator] = {
    "media": _generate_media,
    "chacha": _generate_chacha,
    "analytics": _generate_analytics,
    "workflows": _generate_workflows,
}


def generate(
    kind: str,
    path: Path,
    *,
    size: int,
    seed: int = 0,
    layout: str = DEFAULT_LAYOUT,
    steps_table: str = DEFAULT_STEPS_TABLE,
) -> dict[str, int]:
    """Create a legacy *kind* file at *path* in *layout* and fill it; returns rows per table.

    *size* is the number of Media items (media), conversations (chacha), searches (analytics)
    or workflow runs (workflows); everything else scales with it. Same seed, same rows.
    *steps_table* names workflows.db's step table (``workflow_step_runs`` or
    ``workflow_steps``).
    """
    return _generate(
        kind, Path(path), size=size, seed=seed, owner=1, layout=layout, steps_table=steps_table
    )


def _generate(
    kind: str,
    path: Path,
    *,
    size: int,
    seed: int,
    owner: int | None,
    layout: str,
    steps_table: str,
) -> dict[str, int]:
    chosen = legacy_layout(kind, layout, steps_table=steps_table)  # checks all three names
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    create_legacy_database(kind, path, layout, steps_table=steps_table)
    try:
        with _bulk_connection(path) as conn:
            sink = _Sink(conn)
            plan = _Plan(owner, chosen, steps_table)
            _GENERATORS[kind](sink, random.Random(seed), size, plan)
            sink.flush()
    except BaseException:
        path.unlink(missing_ok=True)  # a half-written sample is worse than none
        raise
    return _count_rows(path, chosen.tables)


def row_counts(
    kind: str,
    path: Path,
    layout: str = DEFAULT_LAYOUT,
    *,
    steps_table: str = DEFAULT_STEPS_TABLE,
) -> dict[str, int]:
    """Rows per ordinary table of a legacy *kind* file in *layout* (FTS tables are derived
    and left out)."""
    return _count_rows(Path(path), legacy_layout(kind, layout, steps_table=steps_table).tables)


def _count_rows(path: Path, tables: Sequence[str]) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


def _user_seed(seed: int, user: str) -> int:
    """Each user gets different rows, reproducibly (crc32 is stable across processes)."""
    return seed * 4_294_967_296 + zlib.crc32(user.encode())


def generate_installation(
    data_dir: Path,
    *,
    users: Sequence[str] = ("1",),
    media_items: int = 200,
    seed: int = 0,
    layout: str = DEFAULT_LAYOUT,
    steps_table: str = DEFAULT_STEPS_TABLE,
) -> dict[str, dict[str, int]]:
    """Write a whole installation's SQLite files under *data_dir*, as a user's server has them.

    ``user_databases/<user>/Media_DB_v2.db`` and ``ChaChaNotes.db`` per user, then
    ``Analytics.db`` and ``workflows.db``, all as the server version *layout* wrote them.
    Returns rows per table keyed by the file's path relative to *data_dir*.
    """
    data_dir = Path(data_dir)
    for kind in KINDS:  # bad names are refused before anything is written
        legacy_layout(kind, layout, steps_table=steps_table)
    for user in users:  # all checked before anything is written
        if not user or user in (".", "..") or not set(user) <= _USER_ID_CHARS:
            raise ValueError(f"user id {user!r} is not a safe directory name")
    written: dict[str, dict[str, int]] = {}
    for user in users:
        user_dir = data_dir / "user_databases" / user
        user_seed = _user_seed(seed, user)
        owner = int(user) if user.isdigit() else None
        plan = (
            ("media", "Media_DB_v2.db", media_items),
            ("chacha", "ChaChaNotes.db", max(10, media_items // 2)),
        )
        for kind, name, size in plan:
            path = user_dir / name
            written[path.relative_to(data_dir).as_posix()] = _generate(
                kind,
                path,
                size=size,
                seed=user_seed,
                owner=owner,
                layout=layout,
                steps_table=steps_table,
            )
    shared = (
        ("analytics", "Analytics.db", max(50, 2 * media_items * len(users))),
        ("workflows", "workflows.db", max(16, media_items // 2)),
    )
    for kind, name, size in shared:
        written[name] = _generate(
            kind,
            data_dir / name,
            size=size,
            seed=seed,
            owner=None,
            layout=layout,
            steps_table=steps_table,
        )
    return written


_USER_ID_CHARS = frozenset(string.ascii_letters + string.digits + "_-.")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: write a sample installation and print what was written."""
    parser = argparse.ArgumentParser(
        prog="python -m tldw_Server_API.app.core.DB_Management.sample_data",
        description="Write deterministic sample SQLite files in the legacy layout.",
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--users", default="1", help="comma-separated user ids (default: 1)")
    parser.add_argument("--media-items", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--layout",
        choices=LAYOUTS,
        default=DEFAULT_LAYOUT,
        help="the server version whose layout the files have (default: %(default)s)",
    )
    parser.add_argument(
        "--steps-table",
        choices=STEP_TABLES,
        default=DEFAULT_STEPS_TABLE,
        help="the name of workflows.db's step table (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    users = [u.strip() for u in args.users.split(",") if u.strip()]
    started = time.perf_counter()
    try:
        written = generate_installation(
            args.data_dir,
            users=users,
            media_items=args.media_items,
            seed=args.seed,
            layout=args.layout,
            steps_table=args.steps_table,
        )
    except (ValueError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    for rel, counts in written.items():
        size_mb = (args.data_dir / rel).stat().st_size / 1e6
        tables = ", ".join(f"{t}={n}" for t, n in counts.items())
        print(f"{args.data_dir / rel}  ({size_mb:.1f} MB)\n    {tables}")
    print(f"wrote {len(written)} files in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
