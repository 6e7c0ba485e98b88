""":class:`WorkflowStore`: every part of the workflows store, on one database handle."""

from __future__ import annotations

from .artifacts import Artifacts
from .decisions import Decisions
from .definitions import Definitions
from .journal import Journal
from .monitoring import Monitoring
from .queue import Queue
from .runs import Runs
from .workers import Workers


class WorkflowStore(Definitions, Runs, Queue, Decisions, Journal, Artifacts, Workers, Monitoring):
    """Definitions, runs, steps, events, artifacts and workers of one workflows database.

    One store serves both backends through a :class:`~...backends.base.Database`
    handle; every public method is one transaction.
    """


__all__ = ["WorkflowStore"]
