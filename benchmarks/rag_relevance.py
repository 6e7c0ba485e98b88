"""Benchmark: retrieval quality (nDCG@10) of the fts, vector and hybrid modes.

    .venv/bin/python benchmarks/rag_relevance.py [--alpha 0.7]

A fixed relevance set: 24 short documents on distinct topics, and 16 queries, each with
the documents judged relevant to it (binary judgements). Half of the queries use the
documents' own words, half paraphrase them (where full-text search cannot match).
Everything runs in-process on a throw-away SQLite installation with the default local
embedding model; vector results are exact, so they are the same on PostgreSQL.
Prints one markdown table: nDCG@10 per mode, over all queries and per query kind.
"""

# ruff: noqa: E501  (the relevance set reads best one document per line)
from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tldw_Server_API.app.core.config import load_settings  # noqa: E402
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry  # noqa: E402
from tldw_Server_API.app.core.DB_Management.stores import MediaStore  # noqa: E402
from tldw_Server_API.app.core.RAG.embeddings import WordLlamaProvider  # noqa: E402
from tldw_Server_API.app.core.RAG.indexer import Indexer  # noqa: E402
from tldw_Server_API.app.core.RAG.search import RagQuery, Retriever  # noqa: E402

DOCUMENTS = {
    "espresso": ("Pulling espresso", "Finely ground coffee, 9 bar of pressure and 25 seconds give a shot of espresso with crema."),
    "tea": ("Green tea", "Steep green tea leaves at 80 degrees for two minutes; boiling water makes it bitter."),
    "bread": ("Sourdough bread", "A starter of wild yeast leavens the dough; bake the loaf in a hot Dutch oven."),
    "volcano": ("Volcanic eruptions", "Magma rises through the crust and erupts as lava, ash and gas from the crater."),
    "earthquake": ("Earthquakes", "Tectonic plates slip along a fault and the ground shakes; seismographs record the waves."),
    "glacier": ("Glaciers", "Ice sheets flow slowly downhill and carve U-shaped valleys in the mountains."),
    "cats": ("House cats", "Cats are small domesticated felines that purr, groom themselves and hunt mice."),
    "dogs": ("Training a puppy", "Reward the puppy with treats when it sits; short daily sessions teach obedience."),
    "bees": ("Honey bees", "Worker bees collect nectar and pollen and turn nectar into honey in the hive."),
    "stocks": ("Stock market", "Share prices fell as investors sold equities and bought government bonds."),
    "inflation": ("Inflation", "Rising consumer prices reduce what money can buy; central banks raise interest rates."),
    "mortgage": ("Mortgages", "A home loan is repaid monthly over decades; the interest rate may be fixed or variable."),
    "python": ("Python lists", "A Python list holds items in order; append adds one and sort orders them in place."),
    "sql": ("SQL joins", "An inner join returns the rows whose keys match in both tables of the query."),
    "git": ("Git branches", "Create a branch, commit the change and merge it back into main when it is reviewed."),
    "marathon": ("Marathon training", "Long slow runs each weekend build endurance for the 42 kilometre race."),
    "chess": ("Chess openings", "The Sicilian defence answers the king's pawn opening with the c-pawn."),
    "guitar": ("Learning guitar", "Practice the chords G, C and D and strum slowly until the changes are clean."),
    "photosynthesis": ("Photosynthesis", "Plants turn sunlight, water and carbon dioxide into sugar and release oxygen."),
    "vaccines": ("Vaccines", "A vaccine trains the immune system to recognise a virus before an infection."),
    "sleep": ("Sleep", "Adults need seven to nine hours of sleep; a dark, cool bedroom helps."),
    "rome": ("Ancient Rome", "The Roman Empire built roads, aqueducts and the Colosseum in its capital."),
    "moon": ("Moon landing", "In 1969 Apollo 11 landed on the Moon and astronauts walked on its surface."),
    "solar": ("Solar panels", "Photovoltaic panels on the roof turn sunlight into electricity for the house."),
}  # fmt: skip
# (query, relevant documents, kind): "words" uses the documents' words, "paraphrase" does not.
QUERIES = [
    ("espresso crema", {"espresso"}, "words"),
    ("lava crater", {"volcano"}, "words"),
    ("interest rates", {"inflation", "mortgage"}, "words"),
    ("sourdough loaf", {"bread"}, "words"),
    ("Python list sort", {"python"}, "words"),
    ("puppy treats", {"dogs"}, "words"),
    ("sunlight", {"photosynthesis", "solar"}, "words"),
    ("Apollo Moon", {"moon"}, "words"),
    ("how do I make a strong coffee", {"espresso"}, "paraphrase"),
    ("the ground trembling during a quake", {"earthquake"}, "paraphrase"),
    ("pets that catch rodents", {"cats"}, "paraphrase"),
    ("insects making something sweet", {"bees"}, "paraphrase"),
    ("combining two database tables", {"sql"}, "paraphrase"),
    ("preparing to run a long race", {"marathon"}, "paraphrase"),
    ("renewable energy for my home", {"solar"}, "paraphrase"),
    ("how much rest should a grown-up get", {"sleep"}, "paraphrase"),
]  # fmt: skip


def ndcg_at_10(ranked: list[str], relevant: set[str]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:10]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(relevant))))
    return dcg / ideal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpha", type=float, default=0.7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            env={}, config_file=Path(folder) / "none.txt", data_dir=Path(folder) / "Databases"
        )
        registry = DatabaseRegistry(settings)
        try:
            store = MediaStore(registry.media())
            names = {}
            for name, (title, content) in DOCUMENTS.items():
                names[str(store.add_media(title, content, "document").id)] = name
            provider = WordLlamaProvider()
            Indexer(registry, provider).run(settings.default_user_id)
            retriever = Retriever(registry.media(), registry.chacha(), provider)
            scores: dict[tuple[str, str], list[float]] = {}
            for query, relevant, kind in QUERIES:
                for mode in ("fts", "vector", "hybrid"):
                    answer = retriever.search(
                        RagQuery(query=query, mode=mode, top_k=10, alpha=args.alpha)  # type: ignore[arg-type]
                    )
                    ranked = list(
                        dict.fromkeys(names[d.id.split(":")[1]] for d in answer.documents)
                    )
                    value = ndcg_at_10(ranked, relevant)
                    for group in ("all", kind):
                        scores.setdefault((mode, group), []).append(value)
        finally:
            registry.close()
    print(f"| mode | nDCG@10, all {len(QUERIES)} queries | own words | paraphrases |")
    print("|---|---|---|---|")
    for mode in ("fts", "vector", "hybrid"):
        cells = [
            sum(v) / len(v) for v in (scores[(mode, g)] for g in ("all", "words", "paraphrase"))
        ]
        print(f"| {mode} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
