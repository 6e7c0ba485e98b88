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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .legacy_layout import LEGACY_TABLES, create_legacy_database

__all__ = ["KINDS", "generate", "generate_installation", "main"]

KINDS: tuple[str, ...] = ("media", "chacha", "analytics", "workflows")
"""The legacy file kinds ``generate`` knows (the keys of ``LEGACY_DDL``)."""

_FLUSH_ROWS = 4000  # rows per executemany: big enough to amortise, small enough to stay flat
_T0 = 1672531200.0  # 2023-01-01T00:00:00Z: the oldest row
_T1 = 1759926896.789  # 2025-10-08T12:34:56.789Z: the newest row
_CLIENT_IDS = ("SERVER_API_V1", "webui-7f3a9c", "desktop-2b81", "import-script", "mobile-e04d")
_CLIENT_WEIGHTS = tuple(itertools.accumulate((60, 20, 10, 6, 4)))

# --------------------------------------------------------------------------------------------
# Vocabulary: fixed (independent of the seed) so tests can search for known words.
# --------------------------------------------------------------------------------------------

_FUNCTION_WORDS = (
    "the of and to in a is that for it with as on was this by are be from at or an which "
    "not we can has have their more these also into than its other"
).split()
_DOMAIN_WORDS = (
    "data model research learning network history music database search migration server "
    "transcript video audio language system analysis patient study results climate energy "
    "market policy science engine memory protocol lecture interview podcast chapter summary "
    "question answer evidence method theory garden river mountain city ocean forest kitchen "
    "recipe coffee bread travel museum painting novel poem election economy vaccine protein "
    "galaxy planet telescope algorithm python postgres sqlite index query transaction backup "
    "teacher student library archive camera bridge harbor village winter summer"
).split()
_ACCENTED = (
    "café naïve École école résumé façade über Zürich São Paulo jalapeño crème brûlée déjà "
    "piñata Ångström smörgåsbord Málaga Kraków Ελλάδα Москва coöperation señor Köln"
).split()
_CJK = "東京 数据库 検索 機械学習 北京 日本語 中文 한국어 서울 音楽 研究".split()
_ONSETS = "b br c ch d dr f g gr h j k l m n p pl qu r s sh st t th tr v w z".split() + [""]
_NUCLEI = "a e i o u ai ea io ou".split()
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


def _build_vocabulary() -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Words ranked for a Zipf-like frequency: function words first, the rest shuffled."""
    rest = _DOMAIN_WORDS + _ACCENTED + _CJK + _pseudo_words(3000)
    random.Random(7).shuffle(rest)
    words = tuple(_FUNCTION_WORDS + rest)
    weights = itertools.accumulate(1.0 / (rank + 8) for rank in range(len(words)))
    return words, tuple(weights)


VOCABULARY, _VOCAB_CUM = _build_vocabulary()
_FIRST_NAMES = "Ada Alan Grace Linus Zoë José Amélie Søren Chloé Wei Yuki Omar Priya Ines".split()
_LAST_NAMES = "Lovelace Turing Hopper Torvalds Müller García Dubois Kierkegaard Li Sato".split()

# --------------------------------------------------------------------------------------------
# Values: text, times, uuids, flags, blobs.
# --------------------------------------------------------------------------------------------


def _words(rng: random.Random, count: int) -> list[str]:
    """*count* words drawn with Zipf-like frequencies."""
    return rng.choices(VOCABULARY, cum_weights=_VOCAB_CUM, k=count)


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


class _MediaGenerator:
    """Writes one media item at a time with all its dependent rows (chunks, versions, ...)."""

    CHUNKS_PER_ITEM = 4

    def __init__(self, sink: _Sink, rng: random.Random, size: int, owner: int | None) -> None:
        self.sink, self.rng, self.size, self.owner = sink, rng, size, owner
        self.ids = {"chunk": 0, "unvec": 0, "dv": 0, "claim": 0, "transcript": 0, "log": 0}
        self.keywords: list[tuple[int, str]] = []
        self.keyword_cum: tuple[float, ...] = ()
        self._declare()

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
            "MediaChunks", f"id, media_id, chunk_text, start_index, end_index, chunk_id, {_SYNC_COLS}"
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

    def log(self, entity: str, uid: str, op: str, t: float, client: str, version: int, payload: dict) -> None:  # noqa: E501
        n = self._next("log")
        row = (entity, uid, op, _stamp(t, n, epochs=True), client, version, _json(payload))
        self.sink.add("sync_log", row)

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
        content = _text(rng, 2000 + int(rng.random() * 1600))
        client = _client(rng)
        deleted = int(rng.random() < 0.03)
        updates = (rng.random() < 0.3) + (rng.random() < 0.1)
        version = 1 + updates + deleted
        last_t = t + (rng.random() * 86400 * 20 if version > 1 else rng.random() * 5)
        status = rng.choices(_STATUSES, cum_weights=_STATUS_CUM)[0]
        sync = _sync(rng, last_t, version=version, deleted=deleted, client=client)
        uid = sync[0]
        self.sink.add("Media", self._media_row(mid, t, mtype, title, content, status) + sync)
        self._media_log(uid, t, last_t, client, version, deleted, title, mtype)
        chunks = self._chunks(mid, uid, content, t, client, deleted)
        self._links(mid, uid, t, client)
        if mtype in ("video", "audio"):
            self._transcript(mid, content, t, client)
        self._versions(mid, title, content, t, client)
        self._claims(mid, chunks, t, client, deleted)
        if status in ("pending", "processing") or rng.random() < 0.08:
            self._unvectorized(mid, chunks, t, client)

    def _media_row(self, mid: int, t: float, mtype: str, title: str, content: str, status: str) -> tuple:  # noqa: E501
        rng = self.rng
        trashed = rng.random() < 0.03
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

    def _media_log(self, uid: str, t: float, last_t: float, client: str, version: int, deleted: int, title: str, mtype: str) -> None:  # noqa: E501
        """One sync_log entry per version: create, updates, and the soft delete if any."""
        payload = {"uuid": uid, "title": title, "type": mtype}
        for v in range(1, version + 1):
            op = "create" if v == 1 else ("delete" if deleted and v == version else "update")
            when = t if v == 1 else t + (last_t - t) * (v - 1) / (version - 1)
            self.log("Media", uid, op, when, client, v, payload)

    def _chunks(self, mid: int, uid: str, content: str, t: float, client: str, deleted: int) -> list[tuple[str, int, int]]:  # noqa: E501
        """Four slices of the content, cut at spaces; chunk_text == content[start:end]."""
        bounds = [0]
        for q in range(1, self.CHUNKS_PER_ITEM):
            cut = content.find(" ", len(content) * q // self.CHUNKS_PER_ITEM)
            bounds.append(max(bounds[-1], cut if cut > 0 else len(content)))
        bounds.append(len(content))
        chunks = []
        for index in range(self.CHUNKS_PER_ITEM):
            start, end = bounds[index], bounds[index + 1]
            text = content[start:end] or content
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
            for k in rng.choices(self.keywords, cum_weights=self.keyword_cum, k=1 + int(rng.random() * 5))
        }
        for kid in sorted(picked):
            self.sink.add("MediaKeywords", (mid, kid))
            kw_uuid = self.keywords[kid - 1][1]
            payload = {"media_uuid": uid, "keyword_uuid": kw_uuid}
            self.log("MediaKeywords", f"{uid}_{kw_uuid}", "link", t + 1, client, 1, payload)

    def _transcript(self, mid: int, content: str, t: float, client: str) -> None:
        """A whisper-style transcript: the content's sentences with time codes."""
        rng = self.rng
        lines = []
        at = 0.0
        for sentence in content.replace("\n\n", " ").split(". "):
            step = 2.0 + rng.random() * 6
            lines.append(f"[{_clock(at)} -> {_clock(at + step)}] {sentence}")
            at += step
        tid = self._next("transcript")
        sync = _sync(rng, t + 30, version=1, deleted=0, client=client)
        row = (tid, mid, rng.choice(_WHISPER), "\n".join(lines), _stamp(t + 30, tid, epochs=True))
        self.sink.add("Transcripts", row + sync)

    def _versions(self, mid: int, title: str, content: str, t: float, client: str) -> None:
        """Version 1 is the ingested text; half the items have an edited version 2."""
        rng = self.rng
        texts = [content]
        if rng.random() < 0.5:
            texts.append(content + "\n\n" + _text(rng, 200))
        for number, text in enumerate(texts, start=1):
            dv = self._next("dv")
            prompt = "Summarize the key points of this document." if rng.random() < 0.6 else None
            analysis = _text(rng, 200) if prompt else None
            meta = {"title": title, "source": "ingest" if number == 1 else "edit", "words": len(text) // 6}  # noqa: E501
            when = t + 60 * number
            row = (dv, mid, number, prompt, analysis, _json(meta), text, _stamp(when, dv, epochs=True))
            self.sink.add("DocumentVersions", row + _sync(rng, when, version=1, deleted=0, client=client))
            if rng.random() < 0.15:
                self.sink.add("DocumentVersionIdentifiers", self._identifiers(dv))

    def _identifiers(self, dv: int) -> tuple:
        """Scholarly ids, each present in some rows only (they are indexed for lookups)."""
        rng = self.rng
        pmid = str(10_000_000 + int(rng.random() * 29_000_000))
        return (
            dv,
            f"10.{1000 + int(rng.random() * 8999)}/{_hex(rng, 8)}" if rng.random() < 0.8 else None,
            pmid if rng.random() < 0.4 else None,
            f"PMC{pmid[:7]}" if rng.random() < 0.2 else None,
            f"{21 + int(rng.random() * 5)}{1 + int(rng.random() * 12):02d}.{int(rng.random() * 99999):05d}"  # noqa: E501
            if rng.random() < 0.3
            else None,
            _hex(rng, 40) if rng.random() < 0.5 else None,
        )

    def _claims(self, mid: int, chunks: list[tuple[str, int, int]], t: float, client: str, deleted: int) -> None:  # noqa: E501
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
            sync = _sync(rng, t + 120, version=1, deleted=deleted or int(rng.random() < 0.01), client=client)  # noqa: E501
            self.sink.add("Claims", row + sync)

    def _unvectorized(self, mid: int, chunks: list[tuple[str, int, int]], t: float, client: str) -> None:  # noqa: E501
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
            self.sink.add("UnvectorizedMediaChunks", row + _sync(rng, t + 5, version=1, deleted=0, client=client))  # noqa: E501


def _clock(seconds: float) -> str:
    """``hh:mm:ss.mmm`` for transcript time codes."""
    ms = int(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _generate_media(sink: _Sink, rng: random.Random, size: int, owner: int | None) -> None:
    gen = _MediaGenerator(sink, rng, size, owner)
    gen.write_keywords()
    for mid in range(1, size + 1):
        gen.write_item(mid)


