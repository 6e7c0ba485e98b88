"""Media_DB_v2.db: the core tables every layout has.

Media items with their keywords, chunks, transcripts, document versions, claims and
sync log; a current file's extra columns and tables come from :mod:`.media_current`.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import string
from collections.abc import Sequence

from .corpus import (
    T0,
    default_stamp,
    distinct_keywords,
    embedding,
    flag,
    hex_digits,
    iso,
    json_text,
    make_text,
    make_title,
    person,
    pick_client,
    sha256_hex,
    stamp,
    time_of,
)
from .media_current import WHISPER, CurrentMediaExtras, Run
from .media_features import DOMAINS, Item
from .sink import SYNC_COLS, Plan, Sink, sync_columns

_MEDIA_TYPES = ("article", "pdf", "video", "document", "audio", "ebook", "obsidian_note")
_MEDIA_TYPE_CUM = tuple(itertools.accumulate((30, 20, 16, 14, 9, 6, 5)))
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
        self, sink: Sink, rng: random.Random, size: int, owner: int | None, layout: str
    ) -> None:
        self.sink, self.rng, self.size, self.owner = sink, rng, size, owner
        self.has_claims = layout != "early"
        self.ids = {"chunk": 0, "unvec": 0, "dv": 0, "claim": 0, "transcript": 0, "log": 0}
        self.keywords: list[tuple[int, str]] = []
        self.keyword_cum: tuple[float, ...] = ()
        self._declare()
        self.extras = (
            CurrentMediaExtras(sink, _offshoot(rng), size, owner) if layout == "current" else None
        )

    def _declare(self) -> None:
        sink = self.sink
        sink.table(
            "Media",
            "id, url, title, type, content, author, ingestion_date, transcription_model, "
            "is_trash, trash_date, vector_embedding, chunking_status, vector_processing, "
            f"content_hash, source_hash, visibility, owner_user_id, {SYNC_COLS}",
        )
        sink.table("Keywords", f"id, keyword, {SYNC_COLS}")
        sink.table("MediaKeywords", "media_id, keyword_id")
        sink.table(
            "Transcripts", f"id, media_id, whisper_model, transcription, created_at, {SYNC_COLS}"
        )
        sink.table(
            "MediaChunks",
            f"id, media_id, chunk_text, start_index, end_index, chunk_id, {SYNC_COLS}",
        )
        sink.table(
            "UnvectorizedMediaChunks",
            "id, media_id, chunk_text, chunk_index, start_char, end_char, chunk_type, "
            f"creation_date, last_modified_orig, is_processed, metadata, {SYNC_COLS}",
        )
        sink.table(
            "DocumentVersions",
            "id, media_id, version_number, prompt, analysis_content, safe_metadata, content, "
            f"created_at, {SYNC_COLS}",
        )
        sink.table("DocumentVersionIdentifiers", "dv_id, doi, pmid, pmcid, arxiv_id, s2_paper_id")
        sink.table(
            "Claims",
            "id, media_id, chunk_index, span_start, span_end, claim_text, confidence, extractor, "
            f"extractor_version, chunk_hash, created_at, {SYNC_COLS}",
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
        row = (entity, uid, op, stamp(t, n, epochs=True), client, version, json_text(payload))
        self.sink.add("sync_log", row + self.extras.sync_log_tail(n) if self.extras else row)

    # -- keywords --------------------------------------------------------------------------

    def write_keywords(self) -> None:
        """A few hundred distinct keywords; popularity is skewed like real tagging."""
        rng = self.rng
        count = max(24, min(self.size // 40, 800))
        words = distinct_keywords(rng, count, ("ÉCOLE", "école", "café", "machine-learning"))
        for kid, word in enumerate(words, start=1):
            t = T0 + rng.random() * 86400 * 30
            deleted = int(kid % 53 == 0)
            client = pick_client(rng)
            sync = sync_columns(rng, t, version=1 + deleted, deleted=deleted, client=client)
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
        t = time_of(rng, mid, self.size)
        mtype = rng.choices(_MEDIA_TYPES, cum_weights=_MEDIA_TYPE_CUM)[0]
        title = make_title(rng)
        content = make_text(rng, 1700 + int(rng.random() * 1700))
        client = pick_client(rng)
        deleted = int(mid % 31 == 4)  # a deterministic ~3%, present in small samples too
        updates = (rng.random() < 0.3) + (rng.random() < 0.1)
        version = 1 + updates + deleted
        last_t = t + (rng.random() * 86400 * 20 if version > 1 else rng.random() * 5)
        status = rng.choices(_STATUSES, cum_weights=_STATUS_CUM)[0]
        sync = sync_columns(rng, last_t, version=version, deleted=deleted, client=client)
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
            item = Item(mid, mtype, title, content, t, client, deleted, self.owner)
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
            person(rng) if rng.random() < 0.7 else None,
            stamp(t, mid, epochs=True),
            rng.choice(WHISPER) if mtype in ("video", "audio") else None,
            flag(trashed, mid),
            stamp(t + 86400 * 10, mid, epochs=True) if trashed else None,
            embedding(rng) if rng.random() < 0.05 else None,
            status,
            int(status == "completed" and rng.random() < 0.7),
            sha256_hex(content),
            sha256_hex(url) if url and rng.random() < 0.6 else None,
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
            return f"https://{rng.choice(DOMAINS)}/{mid}/{slug}"
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
            sync = sync_columns(self.rng, t + 2, version=1, deleted=deleted, client=client)
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
        self, mid: int, content: str, t: float, client: str, runs: Sequence[Run]
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
        sync = sync_columns(rng, t + 30, version=1, deleted=0, client=client)
        model = rng.choice(WHISPER)
        row = (tid, mid, model, "\n".join(lines), stamp(t + 30, tid, epochs=True))
        if not self.extras:
            self.sink.add("Transcripts", row + sync)
            return
        self.sink.add("Transcripts", row + sync + runs[0].tail)
        for run in runs[1:]:
            tid = self._next("transcript")
            later = t + 30 + 86400 * (run.number or 1)
            again = (tid, mid, run.model or model, "\n".join(lines[::-1]), iso(later))
            resync = sync_columns(self.extras.rng, later, version=1, deleted=0, client=client)
            self.sink.add("Transcripts", again + resync + run.tail)

    def _versions(self, mid: int, title: str, content: str, t: float, client: str) -> None:
        """Version 1 is the ingested text; half the items have an edited version 2."""
        rng = self.rng
        texts = [content]
        if rng.random() < 0.35:
            texts.append(content + "\n\n" + make_text(rng, 200))
        for number, text in enumerate(texts, start=1):
            dv = self._next("dv")
            prompt = "Summarize the key points of this document." if rng.random() < 0.6 else None
            analysis = make_text(rng, 200) if prompt else None
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
                json_text(meta),
                text,
                stamp(when, dv, epochs=True),
            )
            self.sink.add(
                "DocumentVersions",
                row + sync_columns(rng, when, version=1, deleted=0, client=client),
            )
            if rng.random() < 0.15:
                identifiers = self._identifiers(dv)
                if self.has_claims:  # an early file has no identifier table
                    self.sink.add("DocumentVersionIdentifiers", identifiers)

    def _identifiers(self, dv: int) -> tuple:
        """Scholarly ids, each present in some rows only (they are indexed for lookups)."""
        rng = self.rng
        pmid = str(10_000_000 + int(rng.random() * 29_000_000))
        doi = f"10.{1000 + int(rng.random() * 8999)}/{hex_digits(rng, 8)}"
        return (
            dv,
            doi if rng.random() < 0.8 else None,
            pmid if rng.random() < 0.4 else None,
            f"PMC{pmid[:7]}" if rng.random() < 0.2 else None,
            _arxiv_id(rng) if rng.random() < 0.3 else None,
            hex_digits(rng, 40),  # the one id every identified version has
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
                sha256_hex(chunk),
                default_stamp(t + 120, cid),
            )
            sync = sync_columns(
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
                stamp(t + 5, uv, epochs=True),
                stamp(t + 5, uv + 1, epochs=True),
                flag(rng.random() < 0.3, uv),
                json_text(meta),
            )
            self.sink.add(
                "UnvectorizedMediaChunks",
                row + sync_columns(rng, t + 5, version=1, deleted=0, client=client),
            )


def _arxiv_id(rng: random.Random) -> str:
    """A new-style arXiv id such as ``2403.01234``."""
    year, month, number = 21 + int(rng.random() * 5), 1 + int(rng.random() * 12), rng.random()
    return f"{year}{month:02d}.{int(number * 99999):05d}"


def _clock(seconds: float) -> str:
    """``hh:mm:ss.mmm`` for transcript time codes."""
    ms = int(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def generate_media(sink: Sink, rng: random.Random, size: int, plan: Plan) -> None:
    gen = _MediaGenerator(sink, rng, size, plan.owner, plan.layout.layout)
    gen.write_keywords()
    for mid in range(1, size + 1):
        gen.write_item(mid)
    if gen.extras:
        gen.extras.finish()
