"""The shipped Config_Files/config.txt: every setting the loader reads, with its true default.

Each setting appears once as a commented-out ``#key = default`` line, so the file as shipped
changes nothing, and uncommenting every line still gives the defaults.
"""

from __future__ import annotations

import re
from pathlib import Path

from tldw_Server_API.app.core.config import (
    CONFIG_SECTIONS,
    DEFAULT_CONFIG_FILE,
    SETTINGS,
    Settings,
    load_settings,
    read_config_file,
)

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / DEFAULT_CONFIG_FILE
#: A commented-out setting: ``#key = value`` (prose comments start with ``# ``).
SETTING_LINE = re.compile(r"^#([a-z_]+) =(.*)$")


def commented_settings() -> list[tuple[str, str]]:
    """(key, value) of every commented-out setting line of the example, in file order."""
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return [(m.group(1), m.group(2).strip()) for m in map(SETTING_LINE.match, lines) if m]


def uncommented(tmp_path: Path) -> Path:
    """A copy of the example with every setting line switched on."""
    text = EXAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "config.txt"
    path.write_text(re.sub(r"(?m)^#([a-z_]+ =)", r"\1", text), encoding="utf-8")
    return path


def test_example_lists_every_setting_the_loader_reads_once() -> None:
    keys = [key for key, _ in commented_settings()]
    assert sorted(keys) == sorted(s.key for s in SETTINGS)


def test_example_as_shipped_sets_nothing() -> None:
    assert read_config_file(EXAMPLE) == {}
    assert load_settings(env={}, config_file=EXAMPLE) == Settings()


def test_example_with_every_setting_uncommented_gives_the_defaults(tmp_path: Path) -> None:
    path = uncommented(tmp_path)
    assert set(read_config_file(path)) == {s.key for s in SETTINGS}
    assert load_settings(env={}, config_file=path) == Settings()


def test_example_uses_only_the_sections_the_loader_reads() -> None:
    sections = re.findall(r"(?m)^\[([^\]]+)\]", EXAMPLE.read_text(encoding="utf-8"))
    assert sections and set(sections) <= set(CONFIG_SECTIONS)
