"""Documents shaped like our users' text, for the search parity tests.

Words come from :data:`sample_data.VOCABULARY` (what the sample installations are built
from: English, accented Latin, Greek, Cyrillic, CJK, made-up words), drawn with a seeded
``random.Random`` as ``sample_data`` does, and decorated the way people write: emoji and
symbols glued to words or standing alone (old ones Unicode 6.1 knew, newer ones it did
not), skin tones and joined emoji, superscripts and fractions, hashtags and mentions, two
scripts in one word, capitals FTS5 does not fold, and private-use characters.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from tldw_Server_API.app.core.DB_Management.sample_data import VOCABULARY

#: Emoji and symbols: 6.1 symbols (FTS5 separators) and later ones (FTS5 token characters).
SYMBOLS: tuple[str, ...] = (
    "🎉",  # U+1F389, Unicode 6.0
    "😀",  # U+1F600, 6.1
    "🚀",  # U+1F680, 6.0
    "☕",  # U+2615
    "❤️",  # U+2764 + variation selector 16
    "🙂",  # U+1F642, 7.0
    "🤔",  # U+1F914, 8.0
    "🥳",  # U+1F973, 11.0
    "👍🏽",  # thumbs up + skin tone (U+1F3FD, 8.0)
    "👩\u200d💻",  # woman technologist: a zero-width-joiner sequence
    "🇫🇷",  # regional indicators
    "™",
    "©",
    "°",
    "€",
    "₿",  # U+20BF, 10.0
    "²",
    "½",
    "①",
    "✓",
    "→",
    "\ue000",  # private use
    "\U000f0001",  # supplementary private use
)
#: Words of scripts and cases the vocabulary lacks.
EXTRA_WORDS: tuple[str, ...] = ("ᏣᎳᎩ", "ꮳꮃꭹ", "Ǆemal", "ﬁnance", "ＦＵＬＬ", "İzmir", "Straße")


def _glued(rng: random.Random, word: str) -> str:
    symbol = rng.choice(SYMBOLS)
    return rng.choice((word + symbol, symbol + word, word[:1] + symbol + word[1:]))


def _two_scripts(rng: random.Random, word: str) -> str:
    return word + rng.choice(VOCABULARY)


_DECORATIONS: tuple[Callable[[random.Random, str], str], ...] = (
    _glued,
    _glued,
    lambda rng, word: f"{word} {rng.choice(SYMBOLS)}",
    lambda rng, word: "#" + word,
    lambda rng, word: "@" + word,
    lambda rng, word: word.upper(),
    lambda rng, word: word[:1].upper() + word[1:],
    _two_scripts,
    lambda rng, word: rng.choice(EXTRA_WORDS),
)


def user_word(rng: random.Random) -> str:
    """One word as a user may have written it (a third of them decorated)."""
    word = rng.choice(VOCABULARY)
    if rng.random() < 0.35:
        word = rng.choice(_DECORATIONS)(rng, word)
    return word


def user_text(rng: random.Random, words: int) -> str:
    """Sentences of user words, as ``sample_data`` writes prose."""
    text = " ".join(user_word(rng) for _ in range(words))
    return text[:1].upper() + text[1:] + rng.choice((".", "!", " 🙂", "?"))


def user_documents(seed: int, count: int) -> list[tuple[int, str, str | None]]:
    """(id, title, body) rows; every twentieth body is NULL, as untranscribed media are."""
    rng = random.Random(seed)
    return [
        (
            doc_id,
            user_text(rng, 2 + int(rng.random() * 5)),
            None if doc_id % 20 == 0 else user_text(rng, 8 + int(rng.random() * 40)),
        )
        for doc_id in range(1, count + 1)
    ]


def typed_words(documents: list[tuple[int, str, str | None]]) -> list[str]:
    """Every distinct whitespace-separated word of the documents, without end punctuation:
    what a user types after reading it."""
    found = {
        word.rstrip(".!?")
        for _, title, body in documents
        for word in f"{title} {body or ''}".split()
    }
    return sorted(w for w in found if w)
