"""Runs (one unit of work each) and their events; responses of the Responses API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from rixin.store.base import NotFoundError, StoreBase, new_id, now
from rixin.store.records import RUN_STATUSES, ResponseRecord, Run, RunEvent
from rixin.store.tables import ResponseRow, RunEventRow, RunRow

INTERRUPTED = "interrupted: the server stopped while this run was in progress"


def _run(row: RunRow) -> Run:
    return Run(
        row.id,
        row.owner,
        row.kind,
        row.status,
        row.created_at,
        row.finished_at,
        row.error,
        row.response_id,
        row.conversation_id,
    )


def _event(row: RunEventRow) -> RunEvent:
    return RunEvent(row.id, row.run_id, row.type, dict(row.data), row.created_at)


def _response(row: ResponseRow) -> ResponseRecord:
    return ResponseRecord(
        row.id,
        row.owner,
        row.status,
        row.model,
        dict(row.body),
        list(row.input),
        row.created_at,
        row.previous_response_id,
        row.conversation_id,
    )


class RunsStore(StoreBase):
    # -- runs and events ----------------------------------------------------------------------------------
    def start_run(
        self,
        owner: str,
        kind: str,
        *,
        run_id: str | None = None,
        response_id: str | None = None,
        conversation_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Run:
        """A new run in status `running`, with its first event (`run.started`, carrying `data`)."""
        stamp = now()
        row = RunRow(
            id=run_id or new_id("run_"),
            owner=owner,
            kind=kind,
            status="running",
            response_id=response_id,
            conversation_id=conversation_id,
            created_at=stamp,
        )
        with self._session() as session:
            session.add(row)
            session.flush()
            session.add(RunEventRow(run_id=row.id, type="run.started", data=dict(data or {}), created_at=stamp))
        return _run(row)

    def add_event(self, run_id: str, type: str, data: dict[str, Any] | None = None) -> RunEvent:
        row = RunEventRow(run_id=run_id, type=type, data=dict(data or {}), created_at=now())
        with self._session() as session:
            if session.get(RunRow, run_id) is None:
                raise NotFoundError(f"no run {run_id!r}")
            session.add(row)
            session.flush()
            return _event(row)

    def finish_run(
        self, run_id: str, status: str, *, error: str | None = None, data: dict[str, Any] | None = None
    ) -> Run:
        """End a run (`completed`, `failed` or `cancelled`) and record `run.<status>` with `data`."""
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"a run ends as completed, failed or cancelled, not {status!r}")
        stamp = now()
        with self._session() as session:
            row = session.get(RunRow, run_id)
            if row is None:
                raise NotFoundError(f"no run {run_id!r}")
            row.status, row.error, row.finished_at = status, error, stamp
            payload = dict(data or {})
            if error is not None:
                payload.setdefault("error", error)
            session.add(RunEventRow(run_id=run_id, type=f"run.{status}", data=payload, created_at=stamp))
            return _run(row)

    def get_run(self, owner: str, run_id: str) -> Run | None:
        with self._session() as session:
            row = session.get(RunRow, run_id)
            return _run(row) if row is not None and row.owner == owner else None

    def list_runs(self, owner: str, *, status: str | None = None, limit: int | None = None) -> list[Run]:
        query = select(RunRow).where(RunRow.owner == owner)
        if status is not None:
            query = query.where(RunRow.status == status)
        query = query.order_by(RunRow.created_at.desc(), RunRow.id.desc()).limit(limit)
        with self._session() as session:
            return [_run(row) for row in session.scalars(query)]

    def list_events(self, owner: str, run_id: str) -> list[RunEvent]:
        """The run's events in order (NotFoundError when the run is not this owner's)."""
        with self._session() as session:
            run = session.get(RunRow, run_id)
            if run is None or run.owner != owner:
                raise NotFoundError(f"no run {run_id!r}")
            query = select(RunEventRow).where(RunEventRow.run_id == run_id).order_by(RunEventRow.id)
            return [_event(row) for row in session.scalars(query)]

    def fail_interrupted_runs(self) -> int:
        """Mark every run still `running` as `failed` (call once at start, before serving): a run can only be
        running in a live server, so these are runs a stopped or killed process left behind."""
        stamp = now()
        with self._session() as session:
            ids = list(session.scalars(select(RunRow.id).where(RunRow.status == "running")))
            if not ids:
                return 0
            session.execute(
                update(RunRow).where(RunRow.id.in_(ids)).values(status="failed", error=INTERRUPTED, finished_at=stamp)
            )
            session.add_all(
                RunEventRow(run_id=i, type="run.failed", data={"error": INTERRUPTED}, created_at=stamp) for i in ids
            )
            session.execute(
                update(ResponseRow).where(ResponseRow.status.in_(("queued", "in_progress"))).values(status="failed")
            )
            return len(ids)

    # -- responses ----------------------------------------------------------------------------------------
    def save_response(
        self,
        owner: str,
        response_id: str,
        *,
        status: str,
        model: str,
        body: dict[str, Any],
        input: list[dict[str, Any]],
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
    ) -> ResponseRecord:
        """Create the response or replace its status, body and input (the same owner only)."""
        with self._session() as session:
            row = session.get(ResponseRow, response_id)
            if row is None:
                row = ResponseRow(id=response_id, owner=owner, created_at=now())
                session.add(row)
            elif row.owner != owner:
                raise NotFoundError(f"no response {response_id!r}")
            row.status, row.model, row.body, row.input = status, model, dict(body), list(input)
            row.previous_response_id, row.conversation_id = previous_response_id, conversation_id
            session.flush()
            return _response(row)

    def get_response(self, owner: str, response_id: str) -> ResponseRecord | None:
        with self._session() as session:
            row = session.get(ResponseRow, response_id)
            return _response(row) if row is not None and row.owner == owner else None

    def delete_response(self, owner: str, response_id: str) -> bool:
        with self._session() as session:
            row = session.get(ResponseRow, response_id)
            if row is None or row.owner != owner:
                return False
            session.delete(row)
            return True
