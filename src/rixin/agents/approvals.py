"""Human approval of tool calls: each pending call has its own id, decided by a person now or later.

The loop submits every call that needs approval to an `ApprovalQueue`, yields one `approval` step per call,
then waits until all of them are decided. Whoever renders the steps decides: the CLI asks y/n at once; a server
lists `pending()` and calls `decide(id, approve)` when a request comes in, from any thread. A plain callable
`(PendingApproval) -> bool` can stand in for a queue (it is asked once per call, in order).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rixin.errors import RixinError
from rixin.tools import Tool
from rixin.types import ToolCall

DENIED = "denied by the user"


class ApprovalError(RixinError):
    """A decision for an unknown or already decided approval."""


@dataclass
class PendingApproval:
    """One call waiting for a person. `approved` stays None until decided."""

    id: str
    call: ToolCall
    agent: str = ""
    run_id: str = ""
    turn: int = 0
    created_at: float = field(default_factory=time.time)
    approved: bool | None = None
    reason: str = ""

    @property
    def decided(self) -> bool:
        return self.approved is not None

    def to_dict(self) -> dict[str, Any]:
        try:
            arguments: Any = self.call.parsed_arguments()
        except ValueError:
            arguments = self.call.function.arguments
        return {
            "id": self.id,
            "agent": self.agent,
            "run_id": self.run_id,
            "turn": self.turn,
            "call": {"id": self.call.id, "name": self.call.name, "arguments": arguments},
            "created_at": self.created_at,
            "approved": self.approved,
            "reason": self.reason,
        }


Approver = Callable[[PendingApproval], bool]
"""Decides one pending call synchronously (the CLI's y/n prompt, a policy, a test)."""


class ApprovalQueue:
    """Thread-safe store of pending approvals: `submit` by the loop, `pending`/`decide` by people, `wait` by the
    loop again. Decided entries are dropped once their waiter has read them."""

    _ids: ClassVar[itertools.count[int]] = itertools.count(1)

    def __init__(self) -> None:
        self._items: dict[str, PendingApproval] = {}
        self._changed = threading.Condition()

    def submit(self, call: ToolCall, *, agent: str = "", run_id: str = "", turn: int = 0) -> PendingApproval:
        with self._changed:
            entry = PendingApproval(f"appr_{next(self._ids)}_{call.id[-8:]}", call, agent, run_id, turn)
            self._items[entry.id] = entry
            return entry

    def pending(self, run_id: str | None = None) -> list[PendingApproval]:
        """Undecided approvals, oldest first (only one run's when `run_id` is given)."""
        with self._changed:
            return [e for e in self._items.values() if not e.decided and run_id in (None, e.run_id)]

    def get(self, approval_id: str) -> PendingApproval | None:
        with self._changed:
            return self._items.get(approval_id)

    def decide(self, approval_id: str, approve: bool, reason: str = "") -> PendingApproval:
        with self._changed:
            entry = self._items.get(approval_id)
            if entry is None:
                raise ApprovalError(f"no pending approval {approval_id!r}")
            if entry.decided:
                raise ApprovalError(f"approval {approval_id!r} was already decided")
            entry.approved, entry.reason = approve, reason
            self._changed.notify_all()
            return entry

    def wait(self, ids: Iterable[str], timeout_s: float | None = None) -> dict[str, PendingApproval]:
        """Block until every id is decided; past `timeout_s`, the undecided ones are denied. Returns the entries
        (and forgets them)."""
        wanted = list(ids)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            while not all(self._items[i].decided for i in wanted):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    for i in wanted:
                        if not self._items[i].decided:
                            self._items[i].approved = False
                            self._items[i].reason = f"no decision within {timeout_s:g} s"
                    break
                self._changed.wait(left)
            return {i: self._items.pop(i) for i in wanted}


def needs_approval(tool: Tool) -> Tool:
    """The same tool, marked so that every call to it waits for a person's approval."""
    return GatedTool(tool.name, tool.description, tool.parameters, tool.function, tool.arguments_model)


@dataclass(frozen=True)
class GatedTool(Tool):
    """A Tool whose calls need approval (see `needs_approval`)."""

    needs_approval: ClassVar[bool] = True


def requires_approval(tool: Tool | None, names: Iterable[str]) -> bool:
    return tool is not None and (tool.name in set(names) or bool(getattr(tool, "needs_approval", False)))
