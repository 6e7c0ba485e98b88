"""The step types a definition may use, by name."""

from __future__ import annotations

from .base import (
    ParkForHuman,
    RunSignals,
    StepCancelled,
    StepConfig,
    StepContext,
    StepFailed,
    StepInterrupted,
    StepType,
)
from .basic import (
    BranchStep,
    DelayStep,
    LogStep,
    PromptStep,
    WaitForApprovalStep,
    WaitForHumanStep,
)
from .content import CreateNoteStep, MediaIngestStep, RagSearchStep
from .webhook import WebhookStep

STEP_TYPES: dict[str, StepType] = {
    step.name: step
    for step in (
        LogStep(),
        DelayStep(),
        PromptStep(),
        BranchStep(),
        WaitForHumanStep(),
        WaitForApprovalStep(),
        WebhookStep(),
        RagSearchStep(),
        MediaIngestStep(),
        CreateNoteStep(),
    )
}

__all__ = [
    "STEP_TYPES",
    "ParkForHuman",
    "RunSignals",
    "StepCancelled",
    "StepConfig",
    "StepContext",
    "StepFailed",
    "StepInterrupted",
    "StepType",
]
