"""The outcome of one step -- a lint check, a publish step, a cluster-test step, a helm.test case --
with the one set of status words every stage reports (tables and JSON alike)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"  # nothing to do: not applicable, or already done (published with the same bytes)
PLANNED = "planned"  # a dry run: what would happen
PUSHED = "pushed"
ALIASED = "aliased"
REFUSED = "refused"  # would change something it must not (a published version with other bytes)
STATUSES = (OK, FAILED, SKIPPED, PLANNED, PUSHED, ALIASED, REFUSED)
BAD = (FAILED, REFUSED)


@dataclass(kw_only=True)
class Outcome:
    """A status from :data:`STATUSES` and the messages that explain it."""

    status: str = OK
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status not in BAD

    @property
    def message(self) -> str:
        return "; ".join(self.messages)

    @message.setter
    def message(self, text: str) -> None:
        self.messages = [text] if text else []

    def set(self, status: str, message: str = "") -> None:
        """Replace the status and its explanation."""
        self.status, self.messages = status, [message] if message else []

    def fail(self, message: str) -> None:
        """Mark as failed and add ``message``."""
        self.status = FAILED
        self.messages.append(message)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "messages": list(self.messages)}


def all_ok(outcomes: Any) -> bool:
    return all(o.ok for o in outcomes)
