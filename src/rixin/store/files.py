"""Files: metadata and bytes (kept apart so that listing never reads contents)."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import delete, select

from rixin.store.base import StoreBase, new_id, now
from rixin.store.records import FileInfo
from rixin.store.tables import FileBlobRow, FileRow


def _record(row: FileRow) -> FileInfo:
    return FileInfo(row.id, row.owner, row.filename, row.purpose, row.bytes, row.created_at)


class FilesStore(StoreBase):
    def add_file(self, owner: str, filename: str, purpose: str, data: bytes) -> FileInfo:
        row = FileRow(
            id=new_id("file-"), owner=owner, filename=filename, purpose=purpose, bytes=len(data), created_at=now()
        )
        with self._session() as session:
            session.add(row)
            session.flush()
            session.add(FileBlobRow(file_id=row.id, data=data))
        return _record(row)

    def list_files(
        self,
        owner: str,
        *,
        purpose: str | None = None,
        limit: int | None = None,
        order: Literal["asc", "desc"] = "desc",
        after: str | None = None,
    ) -> list[FileInfo]:
        """The owner's files, newest first (`order="asc"`: oldest first); `after`: those past this file id."""
        query = select(FileRow).where(FileRow.owner == owner)
        if purpose is not None:
            query = query.where(FileRow.purpose == purpose)
        ordering = (FileRow.created_at, FileRow.id)
        query = query.order_by(*(o.desc() for o in ordering) if order == "desc" else ordering)
        with self._session() as session:
            rows = [_record(row) for row in session.scalars(query)]
        if after is not None:
            ids = [f.id for f in rows]
            rows = rows[ids.index(after) + 1 :] if after in ids else []
        return rows[:limit] if limit is not None else rows

    def get_file(self, owner: str, file_id: str) -> FileInfo | None:
        with self._session() as session:
            row = session.get(FileRow, file_id)
            return _record(row) if row is not None and row.owner == owner else None

    def read_file(self, owner: str, file_id: str) -> bytes | None:
        with self._session() as session:
            row = session.get(FileRow, file_id)
            if row is None or row.owner != owner:
                return None
            blob = session.get(FileBlobRow, file_id)
            return bytes(blob.data) if blob is not None else b""

    def delete_file(self, owner: str, file_id: str) -> bool:
        with self._session() as session:
            row = session.get(FileRow, file_id)
            if row is None or row.owner != owner:
                return False
            session.execute(delete(FileBlobRow).where(FileBlobRow.file_id == file_id))
            session.delete(row)
            return True
