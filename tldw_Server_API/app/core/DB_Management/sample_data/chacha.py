"""ChaChaNotes.db: characters, conversations, messages, notes and keywords.

With the reference cycles of a real file (a conversation's character, a message's
parent) and keywords that differ only outside ASCII.
"""

from __future__ import annotations

import random
from collections import deque

from .corpus import (
    T0,
    default_stamp,
    distinct_keywords,
    json_text,
    make_sentence,
    make_text,
    make_title,
    make_words,
    person,
    pick_client,
    png,
    stamp,
    time_of,
    uuid4,
)
from .sink import Plan, Sink

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

    def __init__(self, sink: Sink, rng: random.Random, size: int) -> None:
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
        return (stamp(t, self._tick()), stamp(last, self._tick()), deleted, client, version)

    def _log(
        self, entity: str, key: str | int, t: float, row: tuple[int, int, str], payload: dict
    ) -> None:
        """One sync_log entry per version of an entity: create, updates, soft delete.

        *row* is (version, deleted, client_id) of the entity as written.
        """
        version, deleted, client = row
        for v in range(1, version + 1):
            op = "create" if v == 1 else ("delete" if deleted and v == version else "update")
            when = stamp(t + 3600.0 * (v - 1), self._tick(), epochs=True)
            self.sink.add("sync_log", (entity, str(key), op, when, client, v, json_text(payload)))

    # -- characters, keywords, collections ---------------------------------------------------

    def write_cards(self) -> None:
        rng = self.rng
        for cid in range(1, max(3, min(self.size // 15, 500)) + 1):
            name = _PERSONAS[cid - 1] if cid <= len(_PERSONAS) else f"{make_title(rng)} {cid}"
            t = T0 + rng.random() * 86400 * 60
            version, deleted = self._version("character_cards", 12) if cid > 1 else (1, 0)
            client = pick_client(rng)
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
            "depth_prompt": {"prompt": make_sentence(rng), "depth": 4},
        }
        return (
            cid,
            name,
            make_text(rng, 200),
            ", ".join(make_words(rng, 4)),
            make_sentence(rng),
            f"You are {name}. {make_sentence(rng)}",
            png(rng) if cid % 4 == 1 else None,
            make_sentence(rng) if rng.random() < 0.3 else None,
            f"Hello! I am {name}. {make_sentence(rng)}",
            f"<START>\n{{{{user}}}}: {make_sentence(rng)}\n{{{{char}}}}: {make_sentence(rng)}",
            make_sentence(rng) if rng.random() < 0.5 else None,
            json_text([make_sentence(rng) for _ in range(int(rng.random() * 3))]),
            json_text(sorted(set(make_words(rng, 3)))),
            person(rng),
            rng.choice(("1.0", "1.1", "2.0")),
            json_text(extensions),
        )

    def write_keywords(self) -> None:
        """Keywords distinct under NOCASE, including 'ÉCOLE' and 'école' (NOCASE is ASCII-only)."""
        rng = self.rng
        count = max(12, min(self.size // 4, 400))
        for kid, word in enumerate(distinct_keywords(rng, count, ("ÉCOLE", "école", "Café")), 1):
            t = T0 + rng.random() * 86400 * 90
            version, deleted = self._version("keywords", 50) if kid > 3 else (1, 0)
            client = pick_client(rng)
            self.sink.add("keywords", (kid, word, *self._times(t, version, deleted, client)))
            self._log("keywords", kid, t, (version, deleted, client), {"keyword": word})
            self.keyword_ids.append(kid)

    def write_collections(self) -> None:
        """A forest of collections: parents always earlier, some roots."""
        rng = self.rng
        count = max(4, min(self.size // 20, 200))
        for cid in range(1, count + 1):
            parent = rng.randrange(1, cid) if cid > 2 and cid % 4 != 0 else None
            name = f"{make_title(rng)} #{cid}"
            t = T0 + rng.random() * 86400 * 90
            version, deleted = self._version("keyword_collections", 50)
            client = pick_client(rng)
            row = (cid, name, parent, *self._times(t, version, deleted, client))
            self.sink.add("keyword_collections", row)
            self._log("keyword_collections", cid, t, (version, deleted, client), {"name": name})
            for kid in self._some_keywords(1, 6):
                self.sink.add("collection_keywords", (cid, kid, default_stamp(t, self._tick())))

    def _some_keywords(self, low: int, high: int) -> list[int]:
        count = min(low + int(self.rng.random() * (high - low + 1)), len(self.keyword_ids))
        return sorted(self.rng.sample(self.keyword_ids, count))

    # -- conversations, messages, notes ------------------------------------------------------

    def write_conversation(self, ordinal: int) -> None:
        rng = self.rng
        t = time_of(rng, ordinal, self.size)
        conv_id = uuid4(rng)
        root_id, forked_from, parent_conv = conv_id, None, None
        if self.recent and ordinal % 10 == 5:  # one conversation in ten is a fork
            parent_conv, root_id, source_messages = rng.choice(self.recent)
            forked_from = rng.choice(source_messages)
        card_id, card_name = rng.choice(self.cards)
        title = make_title(rng) if rng.random() < 0.9 else None
        rating = 1 + int(rng.random() * 5) if rng.random() < 0.4 else None
        version, deleted = self._version("conversations", 25)
        client = pick_client(rng)
        head = (conv_id, root_id, forked_from, parent_conv, card_id, title, rating)
        self.sink.add("conversations", head + self._times(t, version, deleted, client))
        self._log("conversations", conv_id, t, (version, deleted, client), {"title": title})
        messages = self._messages(conv_id, card_name, t, client)
        self.recent.append((conv_id, root_id, messages))
        for kid in self._some_keywords(0, 3):
            self.sink.add("conversation_keywords", (conv_id, kid, default_stamp(t, self._tick())))
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
            message_id = uuid4(rng)
            branch = k > 1 and rng.random() < 0.08
            parent = (rng.choice(ids[:-1]) if branch else ids[-1]) if ids else None
            image = png(rng, 8) if rng.random() < 0.01 else None
            at += 5 + rng.random() * 300
            version, deleted = self._version("messages", 50)
            row = (
                message_id,
                conv_id,
                parent,
                "user" if k % 2 == 0 else card_name,
                make_text(rng, 60 + int(rng.random() * 900)),
                image,
                "image/png" if image else None,
                stamp(at, self._tick(), epochs=True),
                1 + int(rng.random() * 3) if branch else None,
                stamp(at + 3600.0 * (version - 1), self._tick()),
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
        note_id = uuid4(rng)
        title = make_title(rng)
        bullets = "\n".join(f"- {make_sentence(rng, 3, 8)}" for _ in range(int(rng.random() * 4)))
        content = f"# {title}\n\n{make_text(rng, 200 + int(rng.random() * 1500))}\n\n{bullets}"
        version, deleted = self._version("notes", 30)
        client = pick_client(rng)
        created = stamp(t, self._tick(), epochs=True)
        last = stamp(t + 3600.0 * (version - 1), self._tick())
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
            self.sink.add("note_keywords", (note_id, kid, default_stamp(t, self._tick())))


def generate_chacha(sink: Sink, rng: random.Random, size: int, plan: Plan) -> None:
    gen = _ChachaGenerator(sink, rng, size)
    gen.write_cards()
    gen.write_keywords()
    gen.write_collections()
    for ordinal in range(1, size + 1):
        gen.write_conversation(ordinal)
