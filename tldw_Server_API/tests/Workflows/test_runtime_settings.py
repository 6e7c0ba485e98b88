"""The workers' lease and heartbeat are settings (TLDW_WORKFLOW_LEASE_SECONDS,
TLDW_WORKFLOW_HEARTBEAT_SECONDS), for the server's own workers as for the worker command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tldw_Server_API.app.core.config import ConfigError, Settings, load_settings
from tldw_Server_API.app.core.DB_Management.registry import DatabaseRegistry
from tldw_Server_API.app.core.Workflows.runtime import WorkflowRuntime

NO_CONFIG = Path("/nonexistent/config.txt")


def test_a_runtime_takes_its_lease_and_heartbeat_from_the_settings(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"workflow_lease_seconds": 30.0, "workflow_heartbeat_seconds": 3.0}
    )
    registry = DatabaseRegistry(configured)
    try:
        runtime = WorkflowRuntime(registry, workers=1)
        assert (runtime.lease_seconds, runtime.heartbeat_seconds) == (30.0, 3.0)
        assert runtime.takeover_bound_seconds == 30.0 + min(runtime.poll_seconds, 3.0)
    finally:
        registry.close()


def test_lease_and_heartbeat_are_read_from_the_environment() -> None:
    env = {"TLDW_WORKFLOW_LEASE_SECONDS": "20", "TLDW_WORKFLOW_HEARTBEAT_SECONDS": "2.5"}

    settings = load_settings(env=env, config_file=NO_CONFIG)

    assert (settings.workflow_lease_seconds, settings.workflow_heartbeat_seconds) == (20.0, 2.5)


def test_a_heartbeat_no_more_frequent_than_the_lease_is_refused() -> None:
    env = {"TLDW_WORKFLOW_LEASE_SECONDS": "5", "TLDW_WORKFLOW_HEARTBEAT_SECONDS": "5"}

    with pytest.raises(ConfigError, match="TLDW_WORKFLOW_HEARTBEAT_SECONDS"):
        load_settings(env=env, config_file=NO_CONFIG)
