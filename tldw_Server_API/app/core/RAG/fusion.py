"""Hybrid ranking: full-text and vector scores fused with ``hybrid_alpha``.

Both lists are put on [0, 1] first. A vector score is the cosine similarity (clipped
at 0). A full-text score keeps our full-text order (title matches first, then rank):
title matches take ``0.5 + 0.5 * rank / best rank`` and the others ``0.5 * rank / best
rank``. The fused score is ``alpha * vector + (1 - alpha) * full_text``, a missing side
counting 0.

Why weighted scores rather than reciprocal rank fusion: clients already send
``hybrid_alpha`` (tldw_server's API), and it keeps its meaning here; scores stay on one
[0, 1] scale in every mode, so ``min_score`` means the same thing whichever mode is
asked; and how far apart two hits are (a near-duplicate versus a weak match) counts,
where ranks alone would hide it.
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


def fuse(
    fts: Mapping[Hashable, float], vector: Mapping[Hashable, float], alpha: float
) -> dict[Hashable, float]:
    """``alpha * vector + (1 - alpha) * fts`` for every key either side found."""
    keys = list(dict.fromkeys([*fts, *vector]))
    return {
        key: alpha * max(0.0, vector.get(key, 0.0)) + (1.0 - alpha) * fts.get(key, 0.0)
        for key in keys
    }
