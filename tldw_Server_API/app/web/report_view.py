"""A recorded migration report as the Migrations page shows it: tables, totals, a chart.

The chart of the time spent per table is plain SVG computed here (bar geometry in the
chart's own units), so the page needs no charting library and no script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The chart's geometry, in SVG user units (the chart scales to the page's width).
CHART_WIDTH = 600
LABEL_WIDTH = 230
VALUE_WIDTH = 70
BAR_HEIGHT = 18
BAR_GAP = 6


@dataclass(frozen=True)
class TableRow:
    source: str
    target: str
    source_rows: int
    target_rows: int
    verified: bool
    carried: bool
    policy_changes: str
    seconds: float


@dataclass(frozen=True)
class Bar:
    label: str
    seconds: float
    y: int
    width: float


@dataclass(frozen=True)
class DatabaseView:
    title: str
    source_file: str
    namespace: str
    status: str
    error: str | None
    rows: list[TableRow]
    source_rows: int
    target_rows: int
    verified: int
    seconds: float
    bars: list[Bar]
    chart_height: int
    chart_width: int = CHART_WIDTH
    label_width: int = LABEL_WIDTH


def changes_text(changes: dict[str, int]) -> str:
    return ", ".join(f"{name}: {count}" for name, count in sorted(changes.items())) or "-"


def chart_bars(rows: list[TableRow]) -> list[Bar]:
    """One bar per table, longest time first; widths relative to the slowest table."""
    ordered = sorted(rows, key=lambda r: r.seconds, reverse=True)
    slowest = max((r.seconds for r in ordered), default=0.0)
    room = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    return [
        Bar(
            label=row.source,  # the SQLite table: shorter than schema.table
            seconds=row.seconds,
            y=index * (BAR_HEIGHT + BAR_GAP),
            width=round(room * row.seconds / slowest, 1) if slowest > 0 else 0.0,
        )
        for index, row in enumerate(ordered)
    ]


def database_view(db: dict[str, Any]) -> DatabaseView:
    rows = [
        TableRow(
            source=t["source"],
            # The schema is named once above the table: the table's own name is enough here.
            target=t["target"].rsplit(".", 1)[-1],
            source_rows=int(t["source_rows"]),
            target_rows=int(t["target_rows"]),
            verified=bool(t["verified"]),
            carried=bool(t["carried"]),
            policy_changes=changes_text(t["policy_changes"]),
            seconds=float(t["seconds"]),
        )
        for t in db["tables"]
    ]
    bars = chart_bars(rows)
    return DatabaseView(
        title=db["database"],
        source_file=db["source_file"],
        namespace=db["schema"],
        status=db["status"],
        error=db.get("error"),
        rows=rows,
        source_rows=sum(r.source_rows for r in rows),
        target_rows=sum(r.target_rows for r in rows),
        verified=sum(1 for r in rows if r.verified),
        seconds=round(sum(r.seconds for r in rows), 3),
        bars=bars,
        chart_height=max(len(bars) * (BAR_HEIGHT + BAR_GAP), BAR_HEIGHT),
    )


def report_view(report: dict[str, Any]) -> list[DatabaseView]:
    """Each database of a recorded report (``tldw-migrate --report``'s JSON), ready to show."""
    return [database_view(db) for db in report["databases"]]


__all__ = ["BAR_HEIGHT", "Bar", "DatabaseView", "TableRow", "chart_bars", "report_view"]
