"""The optional workflow package (``app/core/Workflows``): where it is, whether it is installed.

The server runs without it: no workflow routes and no runtime. Both the app factory
(its routes) and the runtime start-up (:mod:`.supervision`) ask here.
"""

from __future__ import annotations

import importlib.util

WORKFLOWS_PACKAGE = f"{__package__}.core.Workflows"


def workflows_module_installed(name: str) -> bool:
    """Whether ``<WORKFLOWS_PACKAGE>.<name>`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(f"{WORKFLOWS_PACKAGE}.{name}") is not None
    except ModuleNotFoundError:  # the package itself is missing
        return False
