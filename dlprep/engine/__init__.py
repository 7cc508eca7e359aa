"""The demo engine: runs a demo file and streams typed records to any consumer.

Importing this package never imports torch; :func:`stream` imports it when a demo starts.
"""

from __future__ import annotations

from dlprep.engine.records import Event, Result, Step
from dlprep.engine.runner import (
    DEVICES,
    DemoError,
    check_request,
    demo_info,
    final_result,
    plain,
    stream,
)
from dlprep.engine.script import save_script, script_text

__all__ = [
    "DEVICES",
    "DemoError",
    "Event",
    "Result",
    "Step",
    "check_request",
    "demo_info",
    "final_result",
    "plain",
    "save_script",
    "script_text",
    "stream",
]
