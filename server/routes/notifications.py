"""The caller's notifications: list (with the unread count), mark one or all read. They are
written by the user's room actor (`Hub.notify`), which also announces each one live."""

from __future__ import annotations

from typing import Any

from pitchey.storage.notifications import NotificationStore

from ..api import Api, Call, Reply
from ..errors import NotFound
from ..schemas import Empty, pagination
from ..schemas.platform import NotificationOut, NotificationQuery, ReadAllOut
from ._shared import realtime_hub

api = Api()


class NotificationNotFound(NotFound):
    default_message = "Notification not found"


def store(call: Call[Any, Any]) -> NotificationStore:
    notifications: NotificationStore = realtime_hub(call).notifications
    return notifications


@api.route(
    "GET",
    "/api/notifications",
    query=NotificationQuery,
    response=NotificationOut,
    response_list=True,
    permission=("read", "notifications"),
    tags=("notifications",),
    summary="The caller's notifications, newest first (`unreadOnly=true` to filter); "
    "`meta.unreadCount` counts all unread ones",
)
async def list_notifications(call: Call[Any, NotificationQuery]) -> Reply:
    q = call.query
    st = store(call)
    me = call.user.user_id
    items, total = await st.page(me, limit=q.limit, offset=q.offset, unread_only=q.unread_only)
    unread = total if q.unread_only else await st.unread_count(me)
    return Reply(
        [NotificationOut.model_validate(n) for n in items], meta=pagination(q, total, unreadCount=unread)
    )


@api.route(
    "POST",
    "/api/notifications/{id}/read",
    body=Empty,
    response=NotificationOut,
    permission=("update", "notifications"),
    tags=("notifications",),
    errors=(NotFound,),
    summary="Mark one of your notifications read (`meta.unreadCount` after it)",
)
async def read_notification(call: Call[Empty, Any]) -> Reply:
    st = store(call)
    me = call.user.user_id
    note = await st.read_one(me, call.path_id())
    if note is None:
        raise NotificationNotFound()
    return Reply(NotificationOut.model_validate(note), meta={"unreadCount": await st.unread_count(me)})


@api.route(
    "POST",
    "/api/notifications/read-all",
    body=Empty,
    response=ReadAllOut,
    permission=("update", "notifications"),
    tags=("notifications",),
    summary="Mark all your notifications read; how many were unread",
)
async def read_all(call: Call[Empty, Any]) -> ReadAllOut:
    st = store(call)
    marked = await st.mark_all_read(call.user.user_id)
    return ReadAllOut(marked=marked, unread_count=await st.unread_count(call.user.user_id))
