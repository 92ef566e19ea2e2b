"""`/v1/files`: upload (multipart, with `purpose`), list, get, content, delete; each key sees only its own."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from rixin.server.auth import Owner
from rixin.server.errors import not_found
from rixin.server.state import get_state
from rixin.store import FileInfo

router = APIRouter()
Purpose = Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]


def file_object(info: FileInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "object": "file",
        "bytes": info.bytes,
        "created_at": int(info.created_at),
        "filename": info.filename,
        "purpose": info.purpose,
        "status": "processed",
        "status_details": None,
        "expires_at": None,
    }


def _missing(file_id: str) -> Exception:
    return not_found(f"No such File object: {file_id}", "id", "file_not_found")


@router.post("/v1/files", summary="Upload a file")
async def upload_file(
    request: Request, owner: Owner, file: Annotated[UploadFile, File()], purpose: Annotated[Purpose, Form()]
) -> dict[str, Any]:
    data = await file.read()
    name = (file.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:512] or "upload"
    info = await run_in_threadpool(get_state(request).store.add_file, owner, name, purpose, data)
    return file_object(info)


@router.get("/v1/files", summary="List files")
async def list_files(
    request: Request,
    owner: Owner,
    purpose: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 10000,
    order: Literal["asc", "desc"] = "desc",
    after: str | None = None,
) -> dict[str, Any]:
    store = get_state(request).store
    files = await run_in_threadpool(store.list_files, owner, purpose=purpose, limit=limit + 1, order=order, after=after)
    data = [file_object(info) for info in files[:limit]]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(files) > limit,
    }


@router.get("/v1/files/{file_id}", summary="Retrieve a file's metadata")
async def get_file(file_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    info = await run_in_threadpool(get_state(request).store.get_file, owner, file_id)
    if info is None:
        raise _missing(file_id)
    return file_object(info)


@router.get(
    "/v1/files/{file_id}/content",
    summary="Retrieve a file's content",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def file_content(file_id: str, request: Request, owner: Owner) -> Response:
    store = get_state(request).store
    info = await run_in_threadpool(store.get_file, owner, file_id)
    data = await run_in_threadpool(store.read_file, owner, file_id)
    if info is None or data is None:
        raise _missing(file_id)
    quoted = info.filename.encode("ascii", "replace").decode().replace('"', "_")
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{quoted}"'},
    )


@router.delete("/v1/files/{file_id}", summary="Delete a file")
async def delete_file(file_id: str, request: Request, owner: Owner) -> dict[str, Any]:
    if not await run_in_threadpool(get_state(request).store.delete_file, owner, file_id):
        raise _missing(file_id)
    return {"id": file_id, "object": "file", "deleted": True}
