"""Benchmark: retrieval quality (nDCG@10) of fts, vector and hybrid on a sample installation.

    .venv/bin/python benchmarks/rag_relevance.py [--items 1000] [--targets 40] [--seed 0]
        [--alpha 0.7]

The collection is a user's installation as the sample generator writes it
(``sample_data.generate_installation``: the Media and ChaChaNotes files of user 1), opened
by the server's SQLite backend as a user's own files are, and embedded by the indexer with
the default local model. The queries and their judgements are derived from that data by
fixed rules (no judgement by hand), for targets taken at even steps through the live media
items and notes (ordered by id):

- ``title``: the target's title. Relevant: the live items with that title.
- ``facts``: the target's three rarest words (fewest items hold them; ties by the word).
  Relevant: the live items holding all three.
- ``passage``: the words of one sentence from the middle of the target. Relevant: the
  live items holding that sentence.
- ``loose``: the ``facts`` query with one word the target lacks (a word the user
  misremembers). Relevant: as for ``facts``.
- ``paraphrase``: the target's two rarest real-English words (the sample text mixes a
  hundred of them into made-up words), each replaced by a synonym that occurs nowhere in
  the sample (``coffee`` -> ``espresso``). Relevant: the live items holding both
  original words; targets with more than ten such items are skipped.

Judgements are binary. Vector results are exact (the same on PostgreSQL). Prints one
markdown table: nDCG@10 per mode, over all queries and per query kind.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from tldw_Server_API.app.core.config import load_settings  # noqa: E402
from tldw_Server_API.app.core.DB_Management.backends.base import Database  # noqa: E402
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry  # noqa: E402
from tldw_Server_API.app.core.DB_Management.sample_data import (  # noqa: E402
    VOCABULARY,
    generate_installation,
)
from tldw_Server_API.app.core.DB_Management.schemas.types import is_false  # noqa: E402
from tldw_Server_API.app.core.RAG import search  # noqa: E402
from tldw_Server_API.app.core.RAG.embeddings import WordLlamaProvider  # noqa: E402
from tldw_Server_API.app.core.RAG.fusion import fuse  # noqa: E402
from tldw_Server_API.app.core.RAG.indexer import Indexer  # noqa: E402
from tldw_Server_API.app.core.RAG.search import RagQuery, Retriever  # noqa: E402

#: The sample's real English words and a synonym of each that the sample never holds.
SYNONYMS = {
    "coffee": "espresso", "bread": "loaf", "kitchen": "cookery", "recipe": "cookbook",
    "garden": "backyard", "river": "stream", "mountain": "peak", "city": "metropolis",
    "ocean": "sea", "forest": "woodland", "travel": "journey", "museum": "exhibition",
    "painting": "artwork", "novel": "fiction", "poem": "verse", "election": "ballot",
    "economy": "finances", "vaccine": "immunisation", "protein": "enzyme", "planet": "mars",
    "telescope": "observatory", "teacher": "instructor", "student": "pupil",
    "library": "bookshelf", "archive": "records", "camera": "photograph", "bridge": "viaduct",
    "village": "hamlet", "winter": "snowfall", "summer": "sunshine", "music": "melody",
    "video": "film", "audio": "sound", "language": "linguistics", "patient": "hospital",
    "climate": "weather", "energy": "electricity", "market": "trading", "policy": "regulation",
    "engine": "motor", "memory": "remembering", "lecture": "seminar", "interview": "conversation",
    "podcast": "broadcast", "chapter": "section", "summary": "overview", "question": "inquiry",
    "answer": "reply", "evidence": "proof", "method": "technique", "theory": "hypothesis",
    "history": "historical", "harbor": "port", "galaxy": "nebula", "database": "datastore",
    "transcript": "subtitles", "backup": "restore", "migration": "relocation",
    "research": "scholarship", "learning": "education", "algorithm": "procedure",
}  # fmt: skip
KINDS = ("title", "facts", "passage", "loose", "paraphrase")
MODES = ("fts", "vector", "hybrid")
_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE = re.compile(r"[^.?]+[.?]")


@dataclass(frozen=True)
class Item:
    key: tuple[str, str]  # (source, id) as the search answers name them
    title: str
    text: str  # title and content
    words: frozenset[str]


@dataclass(frozen=True)
class Query:
    text: str
    relevant: frozenset[tuple[str, str]]
    kind: str


def words_of(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def live_items(media: Database, chacha: Database) -> list[Item]:
    """The live media items and notes, in id order."""
    items = []
    m = media.table("media")
    n = chacha.table("notes")
    reads = (
        (media, "media_db", select(m.c.id, m.c.title, m.c.content).where(
            is_false(m.c.deleted), is_false(m.c.is_trash)).order_by(m.c.id)),
        (chacha, "notes", select(n.c.id, n.c.title, n.c.content).where(
            is_false(n.c.deleted)).order_by(n.c.id)),
    )  # fmt: skip
    for database, source, stmt in reads:
        with database.begin(write=False) as conn:
            for row in conn.execute(stmt):
                text = f"{row.title or ''}\n{row.content or ''}"
                items.append(
                    Item((source, str(row.id)), row.title or "", text, frozenset(words_of(text)))
                )
    return items


def build_queries(items: list[Item], targets: int) -> list[Query]:
    """The queries and judgements, derived from *items* by the rules of the docstring."""
    df = Counter(w for item in items for w in item.words)
    vocabulary = {w.casefold() for w in VOCABULARY}
    synonyms = {k: v for k, v in SYNONYMS.items() if v not in vocabulary}
    step = max(1, len(items) // targets)
    queries = []

    def holding(words: list[str]) -> frozenset[tuple[str, str]]:
        return frozenset(i.key for i in items if all(w in i.words for w in words))

    for number, target in enumerate(items[::step][:targets]):
        rare = sorted(target.words, key=lambda w: (df[w], w))
        facts = [w for w in rare if len(w) > 2][:3]
        queries.append(
            Query(
                target.title,
                frozenset(i.key for i in items if i.title.casefold() == target.title.casefold()),
                "title",
            )
        )
        queries.append(Query(" ".join(facts), holding(facts), "facts"))
        sentences = [s for s in _SENTENCE.findall(target.text.split("\n", 1)[-1]) if s.strip()]
        if sentences:
            sentence = sentences[len(sentences) // 2].strip()
            queries.append(
                Query(
                    " ".join(_WORD.findall(sentence)),
                    frozenset(i.key for i in items if sentence in i.text),
                    "passage",
                )
            )
        lacking = [w for w in sorted(df, key=lambda w: (-df[w], w)) if w not in target.words]
        extra = lacking[(7 * number) % min(200, len(lacking))]
        queries.append(Query(" ".join([*facts[:2], extra, facts[2]]), holding(facts), "loose"))
        english = sorted((w for w in target.words if w in synonyms), key=lambda w: (df[w], w))
        if len(english) >= 2:
            relevant = holding(english[:2])
            if len(relevant) <= 10:
                queries.append(
                    Query(" ".join(synonyms[w] for w in english[:2]), relevant, "paraphrase")
                )
    return queries


def _ranks(scores: Mapping[Hashable, float]) -> dict[Hashable, int]:
    ordered = sorted(scores.items(), key=lambda pair: -pair[1])
    return {key: rank for rank, (key, _) in enumerate(ordered, start=1)}


def raw_cosine_fusion(
    fts: Mapping[Hashable, float], vector: Mapping[Hashable, float], alpha: float
) -> dict[Hashable, float]:
    """The earlier rule: ``alpha * cosine + (1 - alpha) * full_text``."""
    keys = dict.fromkeys([*fts, *vector])
    return {k: alpha * max(0.0, vector.get(k, 0.0)) + (1 - alpha) * fts.get(k, 0.0) for k in keys}


def reciprocal_rank_fusion(
    fts: Mapping[Hashable, float], vector: Mapping[Hashable, float], alpha: float
) -> dict[Hashable, float]:
    """Reciprocal rank fusion (k = 60), both lists weighted equally."""
    by_fts, by_vector = _ranks(fts), _ranks(vector)
    return {
        key: sum(1 / (60 + ranks[key]) for ranks in (by_fts, by_vector) if key in ranks)
        for key in dict.fromkeys([*fts, *vector])
    }


#: Hybrid rules compared side by side: the one the server uses and two others.
FUSIONS = {
    "cosine above the weakest candidate (the server's)": fuse,
    "raw cosine, alpha-weighted": raw_cosine_fusion,
    "reciprocal rank fusion": reciprocal_rank_fusion,
}


def ndcg_at_10(ranked: list[tuple[str, str]], relevant: frozenset[tuple[str, str]]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, key in enumerate(ranked[:10]) if key in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    return dcg / ideal


def evaluate(
    retriever: Retriever, queries: list[Query], alpha: float, modes: Sequence[str] = MODES
) -> dict[tuple[str, str], list[float]]:
    """nDCG@10 per (mode, query kind or ``all``)."""
    scores: dict[tuple[str, str], list[float]] = {}
    for query in queries:
        for mode in modes:
            answer = retriever.search(
                RagQuery(
                    query=query.text,
                    sources=("media_db", "notes"),
                    mode=mode,  # type: ignore[arg-type]
                    top_k=10,
                    alpha=alpha,
                )
            )
            ranked = list(dict.fromkeys(tuple(d.id.split(":")[:2]) for d in answer.documents))
            value = ndcg_at_10(ranked, query.relevant)  # type: ignore[arg-type]
            for group in ("all", query.kind):
                scores.setdefault((mode, group), []).append(value)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000, help="media items of the sample")
    parser.add_argument("--targets", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, default=0.7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "Databases"
        generate_installation(data_dir, users=("1",), media_items=args.items, seed=args.seed)
        settings = load_settings(env={}, config_file=Path(folder) / "none.txt", data_dir=data_dir)
        registry = DatabaseRegistry(settings)
        try:
            provider = WordLlamaProvider()
            report = Indexer(registry, provider).run("1")
            items = live_items(registry.media("1"), registry.chacha("1"))
            queries = build_queries(items, args.targets)
            retriever = Retriever(registry.media("1"), registry.chacha("1"), provider)
            scores = evaluate(retriever, queries, args.alpha)
            by_fusion = {}
            for name, rule in FUSIONS.items():
                search.fuse = rule  # type: ignore[assignment]
                by_fusion[name] = evaluate(retriever, queries, args.alpha, ("hybrid",))
            search.fuse = fuse
        finally:
            registry.close()
    counts = Counter(q.kind for q in queries)
    print(
        f"{len(items)} live items (media and notes), {report.chunks} chunks, "
        f"{len(queries)} queries; hybrid_alpha {args.alpha}\n"
    )
    print(
        f"| mode | all {len(queries)} | "
        + " | ".join(f"{kind} ({counts[kind]})" for kind in KINDS)
        + " |"
    )
    print("|---" * (len(KINDS) + 2) + "|")
    for mode in MODES:
        cells = [scores.get((mode, g), []) for g in ("all", *KINDS)]
        print(
            f"| {mode} | "
            + " | ".join(f"{sum(c) / len(c):.3f}" if c else "-" for c in cells)
            + " |"
        )
    print(f"\n| hybrid rule | all {len(queries)} | " + " | ".join(KINDS) + " |")
    print("|---" * (len(KINDS) + 2) + "|")
    for name, found in by_fusion.items():
        cells = [found.get(("hybrid", g), []) for g in ("all", *KINDS)]
        print(
            f"| {name} | "
            + " | ".join(f"{sum(c) / len(c):.3f}" if c else "-" for c in cells)
            + " |"
        )


if __name__ == "__main__":
    main()
