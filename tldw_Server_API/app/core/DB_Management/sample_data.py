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
from pathlib import Path

from .legacy_layout import LEGACY_TABLES, create_legacy_database

__all__ = ["KINDS", "generate", "generate_installation", "main", "row_counts"]

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
        content = _text(rng, 1700 + int(rng.random() * 1700))
        client = _client(rng)
        deleted = int(mid % 31 == 4)  # a deterministic ~3%, present in small samples too
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
                self.sink.add("DocumentVersionIdentifiers", self._identifiers(dv))

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


def _arxiv_id(rng: random.Random) -> str:
    """A new-style arXiv id such as ``2403.01234``."""
    year, month, number = 21 + int(rng.random() * 5), 1 + int(rng.random() * 12), rng.random()
    return f"{year}{month:02d}.{int(number * 99999):05d}"


def _clock(seconds: float) -> str:
    """``hh:mm:ss.mmm`` for transcript time codes."""
    ms = int(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _generate_media(sink: _Sink, rng: random.Random, size: int, owner: int | None) -> None:
    gen = _MediaGenerator(sink, rng, size, owner)
    gen.write_keywords()
    for mid in range(1, size + 1):
        gen.write_item(mid)


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


def _generate_chacha(sink: _Sink, rng: random.Random, size: int, owner: int | None) -> None:
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


def _analytics_stamp(t: float, n: int) -> str | int:
    """``timestamp`` columns are filled by their DEFAULT, except where other tools wrote."""
    if n % 97 == 13:
        return int(t)
    if n % 89 == 7:
        return int(t * 1000)
    return _default_stamp(t, n)


class _AnalyticsGenerator:
    """One search per ordinal, with the document, feedback, error and usage rows around it."""

    def __init__(self, sink: _Sink, rng: random.Random, size: int) -> None:
        self.sink, self.rng, self.size = sink, rng, size
        self.n = 0
        queries = (
            " ".join(_words(rng, 1 + int(rng.random() * 6))) for _ in range(max(10, size // 5))
        )
        self.queries = [(_sha256(q)[:16], len(q)) for q in queries]
        for table, columns in (
            (
                "search_analytics",
                "timestamp, query_hash, query_length, query_complexity, "
                "search_type, results_count, max_score, avg_score, response_time_ms, cache_hit, "
                "reranking_used, expansion_used, filters_used, error_occurred, error_type",
            ),
            (
                "document_performance",
                "timestamp, document_id, query_hash, retrieval_rank, "
                "relevance_score, was_clicked, dwell_time_ms, chunk_count",
            ),
            (
                "feedback_analytics",
                "timestamp, query_hash, document_id, feedback_type, rating, "
                "helpful, comment_length, details",
            ),
            (
                "error_tracking",
                "timestamp, error_type, component, severity, error_hash, count, details",
            ),
            ("system_performance", "timestamp, metric_name, metric, unit, component, details"),
            ("feature_usage", "timestamp, feature_name, count, success, user_segment, details"),
            ("analytics_events", "timestamp, event_type, query_hash, metrics"),
        ):
            sink.table(table, columns)

    def _tick(self) -> int:
        self.n += 1
        return self.n

    def write(self, ordinal: int) -> None:
        rng = self.rng
        t = _time_of(rng, ordinal, self.size)
        query_hash, length = rng.choice(self.queries)
        self._search(t, query_hash, length)
        for rank in range(1, 1 + int(rng.random() * 4)):
            self._document(t + rank, query_hash, rank)
        if rng.random() < 0.1:
            self._feedback(t + 30, query_hash)
        if rng.random() < 0.05:
            self._error(t + 1)
        if ordinal % 5 == 0:
            self._system(t)
        if rng.random() < 0.15:
            self._feature(t)
        if rng.random() < 0.3:
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
        self.sink.add(
            "search_analytics",
            (
                _analytics_stamp(t, n),
                query_hash,
                length,
                rng.choice(("simple", "moderate", "complex")),
                rng.choice(_SEARCH_TYPES),
                results,
                max_score,
                max_score * (0.4 + rng.random() * 0.5) if max_score is not None else None,
                round(20 + rng.random() * 1500, 3),
                _flag(rng.random() < 0.25, n),
                _flag(rng.random() < 0.5, n + 1),
                _flag(rng.random() < 0.2, n + 2),
                filters,
                _flag(error, n + 3),
                rng.choice(("timeout", "db_error", "llm_error")) if error else None,
            ),
        )

    def _document(self, t: float, query_hash: str, rank: int) -> None:
        rng = self.rng
        n = self._tick()
        row = (
            _analytics_stamp(t, n),
            str(1 + int(rng.random() * 20000)),
            query_hash,
            rank,
            rng.random(),
            _flag(rng.random() < 0.3, n),
            int(rng.random() * 120_000) if rng.random() < 0.3 else None,
            1 + int(rng.random() * 8),
        )
        self.sink.add("document_performance", row)

    def _feedback(self, t: float, query_hash: str) -> None:
        rng = self.rng
        n = self._tick()
        kind = rng.choice(("thumbs", "rating", "comment"))
        row = (
            _analytics_stamp(t, n),
            query_hash,
            str(1 + int(rng.random() * 20000)),
            kind,
            1 + int(rng.random() * 5) if kind == "rating" else None,
            _flag(rng.random() < 0.7, n),
            int(rng.random() * 400) if kind == "comment" else None,
            _json({"ui": rng.choice(("webui", "api")), "session": _hex(rng, 12)}),
        )
        self.sink.add("feedback_analytics", row)

    def _error(self, t: float) -> None:
        rng = self.rng
        details = {"message": _sentence(rng), "retry": rng.random() < 0.5}
        row = (
            _analytics_stamp(t, self._tick()),
            rng.choice(("TimeoutError", "OperationalError", "HTTPError", "ValueError")),
            rng.choice(_COMPONENTS),
            rng.choice(("warning", "error", "critical")),
            _hex(rng, 16),
            1 + int(rng.random() * 20),
            _json(details),
        )
        self.sink.add("error_tracking", row)

    def _system(self, t: float) -> None:
        rng = self.rng
        name, unit, scale = rng.choice(
            (
                ("cpu_percent", "%", 100.0),
                ("memory_mb", "MB", 8192.0),
                ("p95_latency", "ms", 2000.0),
            )
        )
        row = (
            _analytics_stamp(t, self._tick()),
            name,
            rng.random() * scale,
            unit,
            rng.choice(_COMPONENTS),
            _json({"host": "srv-1"}),
        )
        self.sink.add("system_performance", row)

    def _feature(self, t: float) -> None:
        rng = self.rng
        n = self._tick()
        row = (
            _analytics_stamp(t, n),
            rng.choice(_FEATURES),
            1 + int(rng.random() * 10),
            _flag(rng.random() < 0.95, n),
            rng.choice(("free", "pro", "team")),
            _json({"client": _client(rng)}),
        )
        self.sink.add("feature_usage", row)


def _generate_analytics(sink: _Sink, rng: random.Random, size: int, owner: int | None) -> None:
    gen = _AnalyticsGenerator(sink, rng, size)
    for ordinal in range(1, size + 1):
        gen.write(ordinal)


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
_STEP_TYPES = ("media_ingest", "prompt", "rag_search", "webhook", "tts", "log", "delay")
_TERMINAL_EVENT = {
    "succeeded": "run_completed",
    "failed": "run_failed",
    "cancelled": "run_cancelled",
    "paused": "run_paused",
    "waiting_human": "waiting_human",
    "waiting_approval": "waiting_approval",
}


class _WorkflowGenerator:
    """Definitions, then runs in every status with their step runs, events and artifacts."""

    def __init__(self, sink: _Sink, rng: random.Random, size: int) -> None:
        self.sink, self.rng, self.size = sink, rng, size
        self.n = 0
        self.definitions: list[tuple[int, str, int, list[dict]]] = []
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
            "workflow_step_runs",
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
        for name in _WORKFLOW_NAMES[: max(3, min(self.size // 25, len(_WORKFLOW_NAMES)))]:
            tenant = "default" if rng.random() < 0.85 else "acme"
            for version in range(1, 2 + int(rng.random() * 3)):
                wid += 1
                steps = [
                    {
                        "id": f"s{k}",
                        "name": _title(rng),
                        "type": rng.choice(_STEP_TYPES),
                        "config": {"timeout_s": 30 * (1 + k), "retries": int(rng.random() * 3)},
                    }
                    for k in range(1, 2 + int(rng.random() * 5))
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
                self.definitions.append((wid, tenant, version, steps))

    def write_run(self, ordinal: int) -> None:
        """One run: its status decides how far its steps got; events are numbered 1, 2, 3..."""
        rng = self.rng
        status = (
            _RUN_STATUSES[ordinal - 1]
            if ordinal <= len(_RUN_STATUSES)
            else rng.choices(_RUN_STATUSES, cum_weights=_RUN_STATUS_CUM)[0]
        )
        wid, tenant, version, steps = rng.choice(self.definitions)
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
        self._run_row(run_id, tenant, wid, version, status, steps, t, started, ended)
        if status == "succeeded" and rng.random() < 0.4:
            self._artifacts(tenant, run_id, self.last_step_run_id, ended or at)

    def _run_row(
        self,
        run_id: str,
        tenant: str,
        wid: int,
        version: int,
        status: str,
        steps: list[dict],
        t: float,
        started: float | None,
        ended: float | None,
    ) -> None:
        rng = self.rng
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
            _json({"version": version, "steps": steps}) if rng.random() < 0.8 else None,
            f"idem-{_hex(rng, 16)}" if rng.random() < 0.3 else None,
            int(status == "cancelled" and rng.random() < 0.9),
        )
        self.sink.add("workflow_runs", row)

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
        if status == "succeeded":
            done, current = len(steps), None
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
        self.sink.add("workflow_step_runs", row)
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


def _generate_workflows(sink: _Sink, rng: random.Random, size: int, owner: int | None) -> None:
    gen = _WorkflowGenerator(sink, rng, size)
    gen.write_definitions()
    for ordinal in range(1, size + 1):
        gen.write_run(ordinal)


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------

_Generator = Callable[[_Sink, random.Random, int, int | None], None]
_GENERATORS: dict[str, _Generator] = {
    "media": _generate_media,
    "chacha": _generate_chacha,
    "analytics": _generate_analytics,
    "workflows": _generate_workflows,
}


def generate(kind: str, path: Path, *, size: int, seed: int = 0) -> dict[str, int]:
    """Create a legacy *kind* file at *path* and fill it; returns rows per table.

    *size* is the number of Media items (media), conversations (chacha), searches (analytics)
    or workflow runs (workflows); everything else scales with it. Same seed, same rows.
    """
    return _generate(kind, Path(path), size=size, seed=seed, owner=1)


def _generate(kind: str, path: Path, *, size: int, seed: int, owner: int | None) -> dict[str, int]:
    if kind not in _GENERATORS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {list(KINDS)}")
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    create_legacy_database(kind, path)
    try:
        with _bulk_connection(path) as conn:
            sink = _Sink(conn)
            _GENERATORS[kind](sink, random.Random(seed), size, owner)
            sink.flush()
    except BaseException:
        path.unlink(missing_ok=True)  # a half-written sample is worse than none
        raise
    return row_counts(kind, path)


def row_counts(kind: str, path: Path) -> dict[str, int]:
    """Rows per ordinary table of a legacy file (FTS tables are derived and left out)."""
    conn = sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True)
    try:
        return {
            t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
            for t in LEGACY_TABLES[kind]
        }
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
) -> dict[str, dict[str, int]]:
    """Write a whole installation's SQLite files under *data_dir*, as a user's server has them.

    ``user_databases/<user>/Media_DB_v2.db`` and ``ChaChaNotes.db`` per user, then
    ``Analytics.db`` and ``workflows.db``. Returns rows per table keyed by the file's path
    relative to *data_dir*.
    """
    data_dir = Path(data_dir)
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
                kind, path, size=size, seed=user_seed, owner=owner
            )
    shared = (
        ("analytics", "Analytics.db", max(50, 2 * media_items * len(users))),
        ("workflows", "workflows.db", max(16, media_items // 2)),
    )
    for kind, name, size in shared:
        written[name] = _generate(kind, data_dir / name, size=size, seed=seed, owner=None)
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
    args = parser.parse_args(argv)
    users = [u.strip() for u in args.users.split(",") if u.strip()]
    started = time.perf_counter()
    try:
        written = generate_installation(
            args.data_dir, users=users, media_items=args.media_items, seed=args.seed
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
