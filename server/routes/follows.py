"""Follows: anyone signed in follows anyone else; the followed user hears of a new follower.

Following is idempotent: the first follow answers 201 and notifies, a repeat answers 200 with
`created: false` and notifies nobody (the document declares both). Following oneself is refused
with 403: a well-formed request the rule forbids, not a malformed one (its schema cannot say "not
your own id"). Lists show public user summaries, never emails.
"""

from __future__ import annotations

from typing import Any

from pitchey.storage.follows import FollowStore, UnknownUser
from pitchey.storage.follows import UserSummary as StoredSummary

from ..api import Api, Call, Reply
from ..errors import Forbidden, NotFound
from ..schemas import PageQuery, pagination
from ..schemas.catalog import FollowBody, FollowItem, FollowOut, UserSummary
from ._shared import realtime_hub

api = Api()


def display_name(u: StoredSummary) -> str:
    return u.name or u.username or u.company_name or f"User {u.id}"


def follows(call: Call[Any, Any]) -> FollowStore:
    return FollowStore(call.state.database)


@api.route(
    "POST",
    "/api/follows",
    body=FollowBody,
    response=FollowOut,
    status=201,
    also=(200,),
    permission=("create", "follow"),
    tags=("follows",),
    errors=(Forbidden, NotFound),
    summary="Follow a user (201; 200 if already following); they get a notification",
)
async def follow_user(call: Call[FollowBody, Any]) -> Reply:
    me = call.user.user_id
    target_id = call.body.user_id
    if target_id == me:
        raise Forbidden("You cannot follow yourself")
    store = follows(call)
    target = await store.summary(target_id)
    if target is None:
        raise NotFound("User not found")
    try:
        created, since = await store.follow(me, target_id)
    except UnknownUser:
        raise NotFound("User not found") from None
    if created:
        follower = await store.summary(me)
        name = display_name(follower) if follower else "Someone"
        await realtime_hub(call).notify(
            target_id,
            "new_follower",
            f"{name} started following you",
            None,
            {
                "followerId": me,
                "followerName": name,
                "followerType": follower.user_type if follower else None,
            },
        )
    out = FollowOut(
        user=UserSummary.model_validate(target), following=True, created=created, followed_at=since
    )
    return Reply(out, status=201 if created else 200)


@api.route(
    "DELETE",
    "/api/follows/{userId}",
    response=FollowOut,
    permission=("delete", "follow"),
    tags=("follows",),
    errors=(NotFound,),
    summary="Stop following a user (idempotent; 404 for an unknown user)",
)
async def unfollow_user(call: Call[Any, Any]) -> FollowOut:
    target_id = call.path_id("userId")
    store = follows(call)
    target = await store.summary(target_id)
    if target is None:
        raise NotFound("User not found")
    await store.unfollow(call.user.user_id, target_id)
    return FollowOut(
        user=UserSummary.model_validate(target), following=False, created=False, followed_at=None
    )


@api.route(
    "GET",
    "/api/follows/following",
    query=PageQuery,
    response=FollowItem,
    response_list=True,
    tags=("follows",),
    summary="The users the caller follows, most recent first",
)
async def list_following(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    page = await follows(call).following(call.user.user_id, limit=q.limit, offset=q.offset)
    return Reply(
        [FollowItem(user=UserSummary.model_validate(r.user), followed_at=r.followed_at) for r in page.rows],
        meta=pagination(q, page.total),
    )


@api.route(
    "GET",
    "/api/follows/followers",
    query=PageQuery,
    response=FollowItem,
    response_list=True,
    tags=("follows",),
    summary="The users following the caller, most recent first",
)
async def list_followers(call: Call[Any, PageQuery]) -> Reply:
    q = call.query
    page = await follows(call).followers(call.user.user_id, limit=q.limit, offset=q.offset)
    return Reply(
        [FollowItem(user=UserSummary.model_validate(r.user), followed_at=r.followed_at) for r in page.rows],
        meta=pagination(q, page.total),
    )
