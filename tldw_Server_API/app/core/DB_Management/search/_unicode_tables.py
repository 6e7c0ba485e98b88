"""FTS5's ``unicode61 remove_diacritics 2`` tables, read once from ``unicode_tables.json``.

``generate_tables.py`` measures them on a real FTS5 tokenizer and writes that file (data,
shipped with the package); see the generator for how each table is measured.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Final

DATA_FILE: Final = "unicode_tables.json"


def _load() -> tuple[tuple[tuple[int, int], ...], dict[str, str]]:
    data = json.loads(files(__package__).joinpath(DATA_FILE).read_text(encoding="ascii"))
    ranges = tuple((first, last) for first, last in data["separator_ranges"])
    return ranges, dict(data["folds"])


_RANGES, _FOLDS = _load()

#: Inclusive runs of code points that separate tokens (besides NUL and surrogates, handled by
#: the users), in order.
SEPARATOR_RANGES: Final[tuple[tuple[int, int], ...]] = _RANGES

#: Token characters rewritten before splitting: FTS5's case fold + diacritic removal
#: (``remove_diacritics 2``). An empty value drops the character (a combining diacritic
#: inside a word).
FOLDS: Final[dict[str, str]] = _FOLDS
