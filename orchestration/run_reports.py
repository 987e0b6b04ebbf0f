"""What a finished Dagster run says to a person: the root cause of each failed step."""

from __future__ import annotations

import re


def failure_messages(result) -> list[str]:
    """The root-cause messages of a failed run's steps (through retries and chained errors)."""
    messages = []
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        error, found = event.event_specific_data.error, []
        while error is not None:
            # Drop the exception's class name: ops read the message, the UI keeps the stack.
            text = re.sub(r"^[\w.]+(Error|Failure|Failed|Exception): ", "", error.message.strip())
            if text and not text.startswith(("Exceeded max_retries", "Error occurred while executing")):
                found.append(text)
            error = error.cause or error.context
        messages.append(f"step {event.step_key}: " + (found[0] if found else event.message))
    return messages
