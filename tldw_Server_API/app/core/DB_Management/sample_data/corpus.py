"""The words, names and values every sample generator draws from.

A fixed vocabulary (so tests can search for known words), text of a given length,
titles, people, ids and hashes, timestamps in every form our users' files hold
(ISO-8601 ``...Z``, ``DEFAULT CURRENT_TIMESTAMP`` text, epoch integers), 0/1 flags
with the odd ``'true'``/``'false'``, embeddings and images. Every function draws
only from the ``random.Random`` it is given: same seed, same values.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import struct
import time
import uuid
import zlib
from collections.abc import Sequence

T0 = 1672531200.0  # 2023-01-01T00:00:00Z: the oldest row
T1 = 1759926896.789  # 2025-10-08T12:34:56.789Z: the newest row
_CLIENT_IDS = ("SERVER_API_V1", "webui-7f3a9c", "desktop-2b81", "import-script", "mobile-e04d")
_CLIENT_WEIGHTS = tuple(itertools.accumulate((60, 20, 10, 6, 4)))


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
FIRST_NAMES = _wordlist("Ada Alan Grace Linus Zoë José Amélie Søren Chloé Wei Yuki Omar Priya Ines")
LAST_NAMES = _wordlist("Lovelace Turing Hopper Torvalds Müller García Dubois Kierkegaard Li Sato")


def make_words(rng: random.Random, count: int) -> list[str]:
    """*count* words drawn with Zipf-like frequencies."""
    return rng.choices(_WORD_DRAW, k=count)


def make_sentence(rng: random.Random, low: int = 6, high: int = 18) -> str:
    """One capitalised sentence, the unit of all generated prose."""
    text = " ".join(make_words(rng, low + int(rng.random() * (high - low + 1))))
    return text[0].upper() + text[1:] + ("?" if rng.random() < 0.06 else ".")


def make_text(rng: random.Random, n_chars: int) -> str:
    """Paragraphs of sentences, at least *n_chars* long (roughly: the loop stops past it)."""
    paragraphs: list[str] = []
    length = 0
    while length < n_chars:
        paragraph = " ".join(make_sentence(rng) for _ in range(2 + int(rng.random() * 5)))
        paragraphs.append(paragraph)
        length += len(paragraph) + 2
    return "\n\n".join(paragraphs)


def make_title(rng: random.Random) -> str:
    """A title-cased phrase of a few words."""
    return " ".join(w[:1].upper() + w[1:] for w in make_words(rng, 2 + int(rng.random() * 6)))


def person(rng: random.Random) -> str:
    """A plausible author or creator name, accents included."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def uuid4(rng: random.Random) -> str:
    """A uuid4 string from *rng* (``uuid.uuid4()`` would break determinism)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hex_digits(rng: random.Random, digits: int) -> str:
    """Random lowercase hex, for hashes and ids that are not worth computing."""
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def iso(t: float) -> str:
    """How the application writes instants: ``2025-10-08T12:34:56.789Z``."""
    sec = int(t)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{int((t - sec) * 1000):03d}Z"


def sql_default(t: float) -> str:
    """How ``DEFAULT CURRENT_TIMESTAMP`` writes instants: ``2025-10-08 12:34:56``."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(t)))


def stamp(t: float, n: int, *, epochs: bool = False) -> str | int:
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
        return sql_default(t)
    return iso(t)


def default_stamp(t: float, n: int) -> str:
    """For columns the application leaves to ``DEFAULT CURRENT_TIMESTAMP``: mostly that text."""
    return iso(t) if n % 11 == 3 else sql_default(t)


def flag(value: bool, n: int) -> int | str:
    """A boolean as 0/1, or (every 37th row, as if written by hand) 'true'/'false'."""
    if n % 37 == 17:
        return "true" if value else "false"
    return int(value)


def pick_client(rng: random.Random) -> str:
    return rng.choices(_CLIENT_IDS, cum_weights=_CLIENT_WEIGHTS)[0]


def embedding(rng: random.Random, dim: int = 384) -> bytes:
    """A vector as the app stores it: little-endian packed float32."""
    return struct.pack(f"<{dim}f", *[rng.random() - 0.5 for _ in range(dim)])


def png(rng: random.Random, side: int = 16) -> bytes:
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


def json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _ascii_fold(text: str) -> str:
    """What ``COLLATE NOCASE`` compares: only ASCII letters are folded."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in text)


def distinct_keywords(rng: random.Random, count: int, must: Sequence[str]) -> list[str]:
    """*count* keywords, distinct under NOCASE, starting with *must*."""
    seen: set[str] = set()
    out: list[str] = []
    pool = itertools.chain(must, (rng.choice(VOCABULARY) for _ in itertools.count()))
    for word in pool:
        if len(out) >= count:
            break
        candidate = (
            word if word in must or rng.random() < 0.7 else f"{word}-{make_words(rng, 1)[0]}"
        )
        if _ascii_fold(candidate) not in seen:
            seen.add(_ascii_fold(candidate))
            out.append(candidate)
    return out


def time_of(rng: random.Random, n: int, total: int) -> float:
    """Creation time of the *n*-th of *total* rows: spread over the history, slightly jittered."""
    return T0 + (T1 - T0 - 86400.0 * 40) * (n / max(total, 1)) + rng.random() * 3600.0
