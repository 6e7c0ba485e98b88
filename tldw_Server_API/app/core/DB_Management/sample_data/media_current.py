"""What only a current (schema version 23) media file holds beyond the core.

The columns v23 added to core tables (transcription runs, claim review, org and
team), claim clusters, chunking templates and the record of the server's own
migrations; the tables hanging off each item are :mod:`.media_features`.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from .corpus import (
    T0,
    default_stamp,
    flag,
    hex_digits,
    json_text,
    make_sentence,
    make_title,
    make_words,
    sha256_hex,
    sql_default,
    stamp,
)
from .media_features import FILE_KINDS, STRUCTURED_TYPES, Item, ItemFeatures
from .sink import SYNC_COLS, Sink, sync_columns

WHISPER = ("whisper-large-v3", "distil-whisper-large-v3", "whisper-medium.en", "whisper-small")

# -- what only a current (schema version 23) media file holds ----------------------------------


@dataclass(frozen=True)
class Run:
    """One transcription run of an item, as a ``current`` file numbers them."""

    number: int | None  # None: a transcript written before runs were numbered
    supersedes: int | None
    idempotency_key: str | None
    model: str | None  # a re-run may use another model (None: the same one)

    @property
    def tail(self) -> tuple:
        """The columns v23 added to Transcripts, in order."""
        return (self.number, self.supersedes, self.idempotency_key)


_REVIEW_STATUSES = ("pending", "approved", "rejected", "flagged")
_REVIEW_STATUS_CUM = tuple(itertools.accumulate((60, 25, 8, 7)))
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


class CurrentMediaExtras(ItemFeatures):
    """The columns and tables a schema-23 media file has beyond the core.

    Draws from its own generator, so adding these rows leaves the core rows as they are.
    Each feature appears on a fixed share of items keyed on the item id, item 1 always
    included, so even a tiny sample fills every table.
    """

    def __init__(self, sink: Sink, rng: random.Random, size: int, owner: int | None) -> None:
        super().__init__(sink, rng, size, owner)
        self._declare()

    def _declare(self) -> None:
        sink = self.sink
        # The core tables, declared by the media generator, with what a current file adds.
        sink.extend(
            "Media",
            "org_id, team_id, latest_transcription_run_id, next_transcription_run_id, my_rating",
        )
        sink.extend("Transcripts", "transcription_run_id, supersedes_run_id, idempotency_key")
        sink.extend(
            "Claims",
            "review_status, reviewer_id, review_group, reviewed_at, review_notes, "
            "review_version, review_reason_code, claim_cluster_id",
        )
        sink.extend("sync_log", "org_id, team_id")
        sink.tables(_CURRENT_MEDIA_COLUMNS)

    # -- columns added to core tables ------------------------------------------------------

    @staticmethod
    def sync_log_tail(n: int) -> tuple[int | None, int | None]:
        """org_id, team_id of sync_log entry *n*: most changes were made outside any team."""
        if n % 14 == 0:
            return 1, 1 + n // 14 % 3
        return (1, None) if n % 7 == 0 else (None, None)

    def transcript_runs(self, mtype: str) -> tuple[Run, ...]:
        """The transcription runs of an item: none unless audio or video, some re-runs."""
        rng = self.rng
        if mtype not in ("video", "audio"):
            return ()
        if rng.random() < 0.1:
            return (Run(None, None, None, None),)
        runs = [Run(1, None, self._idempotency_key(), None)]
        if rng.random() < 0.3:
            model = rng.choice(WHISPER) if rng.random() < 0.5 else None
            runs.append(Run(2, 1, self._idempotency_key(), model))
        return tuple(runs)

    def _idempotency_key(self) -> str | None:
        return f"tx-{hex_digits(self.rng, 20)}" if self.rng.random() < 0.4 else None

    def media_tail(self, mid: int, visibility: str, runs: Sequence[Run]) -> tuple:
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
        notes = make_sentence(rng, 4, 10) if rng.random() < 0.5 else None
        reason = (
            rng.choice(("unsupported", "outdated", "ambiguous")) if status != "approved" else None
        )
        when = t + 86400.0 * (1 + rng.random() * 20)
        log = (cid, "pending", status, reviewer, notes, reason, 2, default_stamp(when, n))
        self.sink.add("claims_review_log", log)
        group = rng.choice(("editors", "fact-check", None))
        return (status, reviewer, group, stamp(when, n, epochs=True), notes, 2, reason, cluster)

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
        row = (cluster, cid, round(0.8 + rng.random() * 0.2, 4), default_stamp(t, self._tick()))
        self.sink.add("claim_cluster_membership", row)
        return cluster

    # -- tables hanging off an item --------------------------------------------------------

    def write_item(self, item: Item) -> None:
        self._visuals(item)
        if item.mtype in STRUCTURED_TYPES or item.mid == 1:
            self._structure(item)
        if item.mtype in FILE_KINDS or item.mid == 1:
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
                default_stamp(t, self._tick()),
                default_stamp(t + 86400, self._tick()),
            )
            self.sink.add("claim_clusters", row)
        self._chunking_templates()
        self._migrations()

    def _chunking_templates(self) -> None:
        """Built-in templates, the user's own, and a deleted one whose name a live one reuses."""
        rng = self.rng
        names = [(name, True) for name in _CHUNKING_BUILTINS]
        names += [
            (f"{make_title(rng)} chunks", False) for _ in range(max(2, min(self.size // 100, 20)))
        ]
        names.append((names[-1][0], False))  # the deleted predecessor of the last one
        for tid, (name, builtin) in enumerate(names, 1):
            deleted = int(tid == len(names))
            t = T0 + 86400.0 * (tid + rng.random())
            template = {
                "method": name if builtin else rng.choice(_CHUNKING_BUILTINS),
                "max_size": rng.choice((200, 400, 800)),
                "overlap": rng.choice((0, 50, 100)),
            }
            row = (
                tid,
                name,
                make_sentence(rng, 4, 10),
                json_text(template),
                flag(builtin, tid),
                json_text(["builtin"] if builtin else sorted(set(make_words(rng, 2)))),
                default_stamp(t, tid),
                default_stamp(t + 3600, tid + 1),
                None if builtin else 1,
                None,
                None if builtin else str(self.owner or 1),
            )
            sync = sync_columns(
                rng, t + 3600, version=1 + deleted, deleted=deleted, client="SERVER_API_V1"
            )
            self.sink.add("ChunkingTemplates", row + sync)

    def _migrations(self) -> None:
        """The server's record of applying schema versions 1 to 23."""
        for version, name in enumerate(_MEDIA_MIGRATIONS, 1):
            t = T0 + 86400.0 * 30 * version
            row = (
                version,
                name,
                sha256_hex(f"{version}:{name}"),
                sql_default(t),
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
        f"org_id, team_id, user_id, {SYNC_COLS}"
    ),
    "MediaFiles": (
        "id, media_id, file_type, storage_path, original_filename, file_size, mime_type, "
        f"checksum, created_at, {SYNC_COLS}"
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
