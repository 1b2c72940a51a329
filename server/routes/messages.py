"""Direct messages. Sending goes through the recipient's `user:` room actor, which stores the
message and only then announces it live (`message`) and notifies (`new_message`)."""

from __future__ import annotations

from typing import Any

from pitchey.protocol import RoomName
from pitchey.rooms.messages import DirectMessage
from pitchey.storage.messages import MessageStore

from ..api import Api, Call, Reply
from ..errors import Forbidden, NotFound, ValidationFailed
from ..schemas import Empty, PageQuery, pagination
from ..schemas.platform import (
    ConversationReadBody,
    ConversationReadOut,
    MessageOut,
    PersonOut,
    SendMessageBody,
    ThreadOut,
)
from ._shared import realtime_hub, visible_pitch

api = Api()


class UserNotFound(NotFound):
    default_message = "User not found"


class MessageNotFound(NotFound):
    default_message = "Message not found"


def store(call: Call[Any, Any]) -> MessageStore:
    hub_store: MessageStore = realtime_hub(call).messages
    return hub_store


def _self_message() -> Forbidden:
    # A rule about the caller, not a malformed body (the schema cannot say "not your own id").
    return Forbidden("You cannot message yourself")


@api.route(
    "POST",
    "/api/messages/send",
    body=SendMessageBody,
    response=MessageOut,
    status=201,
    permission=("create", "message"),
    tags=("messages",),
    errors=(NotFound, Forbidden, ValidationFailed),
    summary="Send a message to a user, or to a pitch's owner about that pitch; the "
    "recipient hears of it live",
)
async def send_message(call: Call[SendMessageBody, Any]) -> Reply:
    me = call.user
    b = call.body
    pitch_title: str | None = None
    if b.pitch_id is not None:
        pitch, _, _ = await visible_pitch(call, b.pitch_id)
        recipient_id, pitch_title = pitch.user_id, pitch.title
        if recipient_id == me.user_id:
            raise _self_message()
    else:
        assert b.recipient_id is not None
        recipient_id = b.recipient_id
        if recipient_id == me.user_id:
            raise _self_message()
        if await store(call).counterpart(recipient_id) is None:
            raise UserNotFound()
    sender = await call.state.users.by_id(me.user_id)
    name = (sender.name or sender.username or sender.company_name) if sender else None
    stored = await realtime_hub(call).ask(
        RoomName.user(recipient_id),
        DirectMessage(me.user_id, name, me.user_type, b.pitch_id, pitch_title, b.content),
    )
    return Reply(MessageOut.model_validate(stored), status=201)


@api.route(
    "GET",
    "/api/messages",
    query=PageQuery,
    response=ThreadOut,
    response_list=True,
    permission=("read", "messages"),
    tags=("messages",),
    summary="The caller's conversations, one per counterpart, most recent first "
    "(`meta.unreadCount`: unread messages in all of them)",
)
async def list_threads(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    st = store(call)
    threads, total = await st.threads(
        call.user.user_id, limit=q.limit, offset=q.offset, user_type=call.user.user_type
    )
    unread = await st.unread_total(call.user.user_id)
    return Reply(
        [
            ThreadOut(
                counterpart=PersonOut(
                    id=t.counterpart.id,
                    username=t.counterpart.username,
                    name=t.counterpart.name,
                    company_name=t.counterpart.company_name,
                    user_type=t.counterpart.user_type,
                ),
                last_message=MessageOut.model_validate(t.last_message),
                unread_count=t.unread,
                message_count=t.total,
            )
            for t in threads
        ],
        meta=pagination(q, total, unreadCount=unread),
    )


@api.route(
    "GET",
    "/api/messages/{userId}",
    query=PageQuery,
    response=MessageOut,
    response_list=True,
    permission=("read", "messages"),
    tags=("messages",),
    errors=(NotFound,),
    summary="The conversation with one user, newest first (reading it changes nothing: mark it "
    "read with POST /api/messages/conversations/{userId}/read)",
)
async def conversation(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    other_id = call.path_id("userId")
    st = store(call)
    other = await st.counterpart(other_id)
    if other is None:
        raise UserNotFound()
    messages, total = await st.conversation(
        call.user.user_id, other_id, limit=q.limit, offset=q.offset, user_type=call.user.user_type
    )
    return Reply([MessageOut.model_validate(m) for m in messages], meta=pagination(q, total))


@api.route(
    "POST",
    "/api/messages/conversations/{userId}/read",
    body=ConversationReadBody,
    response=ConversationReadOut,
    permission=("read", "messages"),
    tags=("messages",),
    errors=(NotFound,),
    summary="Mark what one user sent you as read (up to `upTo`, the newest message you were shown)",
)
async def read_conversation(call: Call[ConversationReadBody, Any]) -> ConversationReadOut:
    """A GET never changes state: opening a conversation reads it, and the client says it was seen."""
    other_id = call.path_id("userId")
    st = store(call)
    if await st.counterpart(other_id) is None:
        raise UserNotFound()
    me = call.user.user_id
    marked = await st.mark_conversation_read(me, other_id, call.body.up_to) if other_id != me else 0
    return ConversationReadOut(marked=marked, unread_count=await st.unread_total(me))


@api.route(
    "POST",
    "/api/messages/{id}/read",
    body=Empty,
    response=MessageOut,
    permission=("read", "messages"),
    tags=("messages",),
    errors=(NotFound,),
    summary="Mark one message you received as read",
)
async def read_message(call: Call[Empty, Any]) -> MessageOut:
    message = await store(call).mark_read(call.user.user_id, call.path_id())
    if message is None:
        raise MessageNotFound()
    return MessageOut.model_validate(message)
