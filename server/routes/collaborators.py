"""Collaborators of a pitch and its co-edited documents (the documents themselves are edited
over `/ws/docs/{pitchId}/{docName}`, server/docs_ws.py).

The owner invites by user id or email with a role (`editor` or `viewer`); the invitee is told
live in their `user:` room and accepts or declines; the owner removes. Nothing is cached about
roles: each document update re-reads them in the statement that stores it
(storage/documents.py), so a removal holds at the removed editor's next update.
"""

from __future__ import annotations

import logging
from typing import Any

from pitchey.protocol.models import NotificationKind
from pitchey.rooms.docs import DocDenied, DocRestore, DocRole, document_role
from pitchey.storage.collaborators import Collaborator, CollaboratorStore
from pitchey.storage.database import StorageError
from pitchey.storage.documents import NAMES, DocumentStore
from pitchey.storage.users import UserStore

from ..api import Api, Call, Reply
from ..docs_ws import DOCUMENTS
from ..errors import Conflict, Forbidden, NotFound
from ..schemas import Empty
from ..schemas.collaboration import (
    CollaborationList,
    CollaborationOut,
    CollaboratorInvite,
    CollaboratorList,
    CollaboratorOut,
    CollaboratorRemoved,
    DocumentInfoOut,
    DocumentsOut,
    VersionList,
    VersionOut,
    VersionRestored,
)
from ._shared import owned_pitch, realtime_hub, visible_pitch

api = Api()
log = logging.getLogger("pitchey.server.collaborators")


class CollaboratorNotFound(NotFound):
    default_message = "Collaborator not found"


class InvitationNotFound(NotFound):
    default_message = "No invitation to you for this pitch"


class UserNotFound(NotFound):
    default_message = "No user with that id or email"


class DocumentNotFound(NotFound):
    default_message = "No such document"


class VersionNotFound(NotFound):
    default_message = "No such version"


async def _recheck(call: Call[Any, Any], pitch_id: int, user_id: int) -> None:
    """Close the user's open document connections that may no longer read (every node)."""
    docs = call.request.app[DOCUMENTS].hub
    if docs is not None:
        try:
            await docs.recheck(pitch_id, user_id)
        except Exception:
            log.warning("could not recheck user %s on pitch %s", user_id, pitch_id, exc_info=True)


def _out(c: Collaborator) -> CollaboratorOut:
    return CollaboratorOut.model_validate(c)


def _store(call: Call[Any, Any]) -> CollaboratorStore:
    return CollaboratorStore(call.state.database)


async def _notify(
    call: Call[Any, Any], user_id: int, kind: NotificationKind, title: str, data: dict[str, object]
) -> None:
    """A notification after a committed change; failing to store it is logged, not an error for
    a change that happened."""
    try:
        await realtime_hub(call).notify(user_id, kind, title, None, data)
    except StorageError:
        log.warning("could not store the %s notification for user %s", kind, user_id, exc_info=True)


@api.route(
    "POST",
    "/api/pitches/{id}/collaborators",
    body=CollaboratorInvite,
    response=CollaboratorOut,
    status=201,
    tags=("collaborators",),
    errors=(NotFound, Forbidden, Conflict),
    summary="Invite a collaborator to a pitch's documents (owner only), or change their role",
)
async def invite(call: Call[CollaboratorInvite, Any]) -> CollaboratorOut:
    pitch_id = call.path_id()
    pitch, _ = await owned_pitch(call, pitch_id)
    users = UserStore(call.state.database)
    body = call.body
    invitee = await (
        users.by_id(body.user_id) if body.user_id is not None else users.by_email(str(body.email))
    )
    if invitee is None:
        raise UserNotFound()
    if invitee.id == pitch.user_id:
        raise Conflict("The owner already edits the pitch's documents")
    collaborator, tell = await _store(call).invite(pitch_id, invitee.id, body.role, call.user.user_id)
    if tell:
        await _notify(
            call,
            invitee.id,
            "collaborator_invite",
            f"You are invited to {'edit' if body.role == 'editor' else 'read'} “{pitch.title}”",
            {"pitchId": pitch_id, "role": body.role, "invitedBy": call.user.user_id},
        )
    return _out(collaborator)


@api.route(
    "GET",
    "/api/pitches/{id}/collaborators",
    response=CollaboratorList,
    tags=("collaborators",),
    errors=(NotFound, Forbidden),
    summary="A pitch's collaborators (for its owner and its collaborators)",
)
async def list_collaborators(call: Call[Any, Any]) -> CollaboratorList:
    pitch_id = call.path_id()
    store = _store(call)
    if await store.get(pitch_id, call.user.user_id) is None:
        await owned_pitch(call, pitch_id)  # 404 or 403 unless the caller is the owner
    return CollaboratorList(collaborators=[_out(c) for c in await store.list(pitch_id)])


@api.route(
    "DELETE",
    "/api/pitches/{id}/collaborators/{user_id}",
    response=CollaboratorRemoved,
    tags=("collaborators",),
    errors=(NotFound, Forbidden),
    summary="Remove a collaborator (the owner), or leave (the collaborator themself)",
)
async def remove(call: Call[Any, Any]) -> CollaboratorRemoved:
    pitch_id = call.path_id()
    user_id = call.path_id("user_id")
    leaving = user_id == call.user.user_id
    pitch = None
    if not leaving:
        pitch, _ = await owned_pitch(call, pitch_id)
    if not await _store(call).remove(pitch_id, user_id):
        raise CollaboratorNotFound()
    await _recheck(call, pitch_id, user_id)
    if not leaving and pitch is not None:
        await _notify(
            call,
            user_id,
            "collaborator_removed",
            f"You no longer collaborate on “{pitch.title}”",
            {"pitchId": pitch_id},
        )
    return CollaboratorRemoved(removed=True)


async def _respond(call: Call[Any, Any], accept: bool) -> CollaboratorOut:
    pitch_id = call.path_id()
    store = _store(call)
    answered = await store.respond(pitch_id, call.user.user_id, accept)
    if answered is None:
        raise InvitationNotFound()
    if not accept:
        await _recheck(call, pitch_id, call.user.user_id)
    pitch = await realtime_hub(call).pitches.get(pitch_id)
    if pitch is not None:
        verb = "accepted" if accept else "declined"
        await _notify(
            call,
            pitch.user_id,
            "collaborator_accepted" if accept else "collaborator_declined",
            f"{answered.name} {verb} your invitation to “{pitch.title}”",
            {"pitchId": pitch_id, "userId": call.user.user_id, "role": answered.role},
        )
    return _out(answered)


@api.route(
    "POST",
    "/api/pitches/{id}/collaborators/accept",
    body=Empty,
    response=CollaboratorOut,
    tags=("collaborators",),
    errors=(NotFound,),
    summary="Accept an invitation to collaborate on a pitch",
)
async def accept(call: Call[Empty, Any]) -> CollaboratorOut:
    return await _respond(call, True)


@api.route(
    "POST",
    "/api/pitches/{id}/collaborators/decline",
    body=Empty,
    response=CollaboratorOut,
    tags=("collaborators",),
    errors=(NotFound,),
    summary="Decline an invitation to collaborate on a pitch (or leave an accepted one)",
)
async def decline(call: Call[Empty, Any]) -> CollaboratorOut:
    return await _respond(call, False)


@api.route(
    "GET",
    "/api/collaborations",
    response=CollaborationList,
    tags=("collaborators",),
    summary="The caller's invitations and collaborations, newest first",
)
async def my_collaborations(call: Call[Any, Any]) -> CollaborationList:
    rows = await _store(call).for_user(call.user.user_id)
    return CollaborationList(collaborations=[CollaborationOut.model_validate(r) for r in rows])


@api.route(
    "GET",
    "/api/pitches/{id}/documents",
    response=DocumentsOut,
    tags=("collaborators",),
    errors=(NotFound, Forbidden),
    summary="A pitch's documents and the caller's role on them (owner, editor, viewer, nda)",
)
async def documents(call: Call[Any, Any]) -> Reply:
    pitch_id = call.path_id()
    user = call.user
    try:
        role = await document_role(call.state.database, pitch_id, user.user_id, user.user_type)
    except DocDenied as exc:
        if exc.code == 4004:
            raise NotFound("Pitch not found") from None
        await visible_pitch(call, pitch_id)  # a 404 or 403 in the pitch's own words first
        raise Forbidden(
            "Only the pitch's owner, its collaborators and NDA holders open its documents"
        ) from None
    infos = await DocumentStore(call.state.database).list(pitch_id)
    out = DocumentsOut(
        pitch_id=pitch_id,
        role=role.role,
        can_write=role.can_write,
        documents=[DocumentInfoOut.model_validate(i) for i in infos],
    )
    return Reply(out)


async def _role(call: Call[Any, Any], pitch_id: int) -> DocRole:
    """The caller's role on the pitch's documents, or the refusal (404, 403) in words."""
    user = call.user
    try:
        return await document_role(call.state.database, pitch_id, user.user_id, user.user_type)
    except DocDenied as exc:
        if exc.code == 4004:
            raise NotFound("Pitch not found") from None
        await visible_pitch(call, pitch_id)  # a 404 or 403 in the pitch's own words first
        raise Forbidden("Only the pitch's owner, collaborators and NDA holders open its documents") from None


def _document_name(call: Call[Any, Any]) -> str:
    name = call.request.match_info.get("name", "")
    if name not in NAMES:
        raise DocumentNotFound()
    return name


@api.route(
    "GET",
    "/api/pitches/{id}/documents/{name}/versions",
    response=VersionList,
    tags=("collaborators",),
    errors=(NotFound, Forbidden),
    summary="A document's versions (a snapshot at each compaction), newest first, with author and time",
)
async def versions(call: Call[Any, Any]) -> VersionList:
    pitch_id = call.path_id()
    name = _document_name(call)
    await _role(call, pitch_id)
    rows = await DocumentStore(call.state.database).versions(pitch_id, name)
    return VersionList(versions=[VersionOut.model_validate(v) for v in rows])


@api.route(
    "POST",
    "/api/pitches/{id}/documents/{name}/versions/{version_id}/restore",
    body=Empty,
    response=VersionRestored,
    tags=("collaborators",),
    errors=(NotFound, Forbidden),
    summary="Restore a version: an ordinary new update whose content is the version's (writers only)",
)
async def restore(call: Call[Empty, Any]) -> VersionRestored:
    pitch_id = call.path_id()
    name = _document_name(call)
    version_id = call.path_id("version_id")
    role = await _role(call, pitch_id)
    if not role.can_write:
        raise Forbidden("Only the pitch's owner and its editors may restore a version")
    snapshot = await DocumentStore(call.state.database).version(pitch_id, name, version_id)
    if snapshot is None:
        raise VersionNotFound()
    docs = call.request.app[DOCUMENTS].hub
    assert docs is not None, "documents not started"
    if not await docs.ask(pitch_id, name, DocRestore(call.user.user_id, snapshot)):
        raise Forbidden("Only the pitch's owner and its editors may restore a version")
    return VersionRestored(restored=True, version_id=version_id)
