"""Hybrid ranking: full-text and vector scores fused with ``hybrid_alpha``.

Both lists are put on [0, 1] first. A full-text score keeps our full-text order (title
matches first, then rank): title matches take ``0.5 + 0.5 * rank / best rank`` and the
others ``0.5 * rank / best rank``. A vector score is how far the candidate's cosine stands
above the weakest candidate the vector search returned, ``(cos - weakest) / (1 - weakest)``
(0 for the weakest, 1 for an exact match). The fused score is ``alpha * vector + (1 -
alpha) * full_text``, a missing side counting 0.

Why the cosine above the weakest candidate and not the cosine itself: a model's cosines
between unrelated texts are not near 0 (the local model puts unrelated chunks of one
collection at 0.3 to 0.6 from a query), so raw cosines gave every vector candidate,
relevant or not, most of the weight and pushed exact full-text matches down. What tells a
relevant chunk apart is how much nearer it is than the others; measured from the weakest
candidate, nearly equal candidates score near 0 and a clear match keeps a high score.

Why weighted scores rather than reciprocal rank fusion: clients already send
``hybrid_alpha`` (tldw_server's API), and it keeps its meaning here; scores stay on one
[0, 1] scale in every mode, so ``min_score`` means the same thing whichever mode is
asked; and how far apart two hits are counts, where ranks alone would hide it (on the
sample-installation relevance set of ``docs/benchmarks.md``, rank fusion let
near-equal vector candidates outrank exact title matches).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence


def fts_scores(hits: Sequence[tuple[Hashable, bool, float]]) -> dict[Hashable, float]:
    """``(key, title_hit, rank)`` in full-text order -> scores on [0, 1], same order."""
    best = max((rank for _, _, rank in hits), default=0.0)
    scores: dict[Hashable, float] = {}
    for key, title_hit, rank in hits:
        relative = rank / best if best > 0 else 1.0
        scores[key] = (0.5 if title_hit else 0.0) + 0.5 * max(0.0, min(1.0, relative))
    return scores


def vector_scores(cosines: Mapping[Hashable, float]) -> dict[Hashable, float]:
    """Cosines -> how far each stands above the weakest of them, on [0, 1]."""
    if not cosines:
        return {}
    weakest = max(0.0, min(cosines.values()))
    if weakest >= 1.0:
        return {key: 0.0 for key in cosines}
    return {
        key: max(0.0, min(1.0, (cosine - weakest) / (1.0 - weakest)))
        for key, cosine in cosines.items()
    }


def fuse(
    fts: Mapping[Hashable, float], vector: Mapping[Hashable, float], alpha: float
) -> dict[Hashable, float]:
    """``alpha * vector + (1 - alpha) * fts`` for every key either side found; *vector*
    holds cosines, *fts* scores of :func:`fts_scores`."""
    above = vector_scores(vector)
    keys = list(dict.fromkeys([*fts, *vector]))
    return {key: alpha * above.get(key, 0.0) + (1.0 - alpha) * fts.get(key, 0.0) for key in keys}
