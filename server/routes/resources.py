"""A production company's resources (crew, equipment, locations, with a cost per day) and their
bookings on projects.

A double booking is refused by the database's exclusion constraint (storage/resources.py), so
two concurrent requests for overlapping days cannot both succeed: the loser gets 409 naming the
booking it clashed with. A booking's cost (days x cost per day) is added to the project's budget
line of the resource's kind ("Crew", "Equipment", "Locations", created when missing).
"""

from __future__ import annotations

from typing import Any

from pitchey.storage.resources import (
    Allocation,
    DoubleBooking,
    ProjectUnavailable,
    Resource,
    ResourceError,
    ResourceInUse,
    ResourceStore,
)

from ..api import Api, Call, Reply
from ..errors import Conflict, NotFound, ValidationFailed
from ..schemas.teams import (
    AllocationCreate,
    AllocationOut,
    Deleted,
    ResourceCreate,
    ResourceOut,
    ResourceQuery,
    ResourceUpdate,
    TeamQuery,
)
from ._team import EDIT, READ, announce, company_role

api = Api()


class ResourceNotFound(NotFound):
    default_message = "Resource not found"


def store(call: Call[Any, Any]) -> ResourceStore:
    return ResourceStore(call.state.database)


def allocation_out(a: Allocation) -> AllocationOut:
    return AllocationOut.model_validate(a)


def resource_out(r: Resource) -> ResourceOut:
    return ResourceOut.model_validate(r)


async def _resource_company(call: Call[Any, Any], what: str) -> tuple[int, int]:
    """(company id, resource id) of the resource in the path, if the caller may `what` it."""
    resource_id = call.path_id()
    company_id = await store(call).company_of(resource_id)
    if company_id is None:
        raise ResourceNotFound()
    try:
        await company_role(call, company_id, EDIT, what)
    except NotFound:
        raise ResourceNotFound() from None
    return company_id, resource_id


@api.route(
    "GET",
    "/api/production/resources",
    query=ResourceQuery,
    response=ResourceOut,
    response_list=True,
    permission=("read", "resources"),
    tags=("production", "resources"),
    errors=(NotFound,),
    summary="The company's crew, equipment and locations, each with its bookings",
)
async def list_resources(call: Call[Any, ResourceQuery]) -> list[ResourceOut]:
    access = await company_role(call, call.query.company_id, READ, "see resources")
    return [resource_out(r) for r in await store(call).list(access.company_id, call.query.kind)]


@api.route(
    "POST",
    "/api/production/resources",
    body=ResourceCreate,
    query=TeamQuery,
    response=ResourceOut,
    status=201,
    permission=("create", "resource"),
    tags=("production", "resources"),
    errors=(NotFound,),
    summary="Add a crew member, piece of equipment or location with its cost per day",
)
async def create_resource(call: Call[ResourceCreate, TeamQuery]) -> Reply:
    access = await company_role(call, call.query.company_id, EDIT, "add resources")
    b = call.body
    resource = await store(call).create(access.company_id, b.kind, b.name, b.cost_per_day, b.notes)
    return Reply(resource_out(resource), status=201)


@api.route(
    "PUT",
    "/api/production/resources/{id}",
    body=ResourceUpdate,
    response=ResourceOut,
    permission=("update", "resources"),
    tags=("production", "resources"),
    errors=(NotFound, Conflict),
    summary="Change a resource (a new cost per day applies to later bookings)",
)
async def update_resource(call: Call[ResourceUpdate, Any]) -> ResourceOut:
    company_id, resource_id = await _resource_company(call, "change resources")
    b = call.body
    values: dict[str, Any] = {
        name: getattr(b, name)
        for name in ("kind", "name", "cost_per_day", "notes")
        if name in b.model_fields_set
    }
    for required in ("kind", "name", "cost_per_day"):
        if required in values and values[required] is None:
            raise ValidationFailed(
                f"{_camel(required)}: may not be null",
                details=[{"field": _camel(required), "message": "may not be null", "type": "null"}],
            )
    try:
        resource = await store(call).update(company_id, resource_id, values)
    except ResourceInUse as exc:
        raise Conflict(exc.message) from None
    if resource is None:
        raise ResourceNotFound()
    return resource_out(resource)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


@api.route(
    "DELETE",
    "/api/production/resources/{id}",
    response=Deleted,
    permission=("delete", "resources"),
    tags=("production", "resources"),
    errors=(NotFound, Conflict),
    summary="Delete a resource that has no bookings (409 naming how many it has)",
)
async def delete_resource(call: Call[Any, Any]) -> Deleted:
    company_id, resource_id = await _resource_company(call, "delete resources")
    try:
        deleted = await store(call).delete(company_id, resource_id)
    except ResourceInUse as exc:
        raise Conflict(exc.message) from None
    if not deleted:
        raise ResourceNotFound()
    return Deleted(id=resource_id)


@api.route(
    "POST",
    "/api/production/resources/{id}/allocations",
    body=AllocationCreate,
    response=AllocationOut,
    status=201,
    permission=("update", "resources"),
    tags=("production", "resources"),
    errors=(NotFound, Conflict),
    summary="Book the resource for a project over inclusive dates; overlapping bookings are 409",
)
async def allocate(call: Call[AllocationCreate, Any]) -> Reply:
    company_id, resource_id = await _resource_company(call, "book resources")
    b = call.body
    try:
        booked = await store(call).allocate(
            company_id, resource_id, b.project_id, b.start_date, b.end_date, call.user.user_id
        )
    except DoubleBooking as exc:
        raise Conflict(exc.message) from None
    except ProjectUnavailable as exc:
        if exc.message.startswith("projectId"):
            raise NotFound("Project not found") from None
        raise Conflict(exc.message) from None
    except ResourceError as exc:
        raise ValidationFailed(exc.message) from None
    if booked is None:
        raise ResourceNotFound()
    await announce(call, booked.project_id, "bookings")
    return Reply(allocation_out(booked), status=201)


@api.route(
    "DELETE",
    "/api/production/resources/{id}/allocations/{allocationId}",
    response=Deleted,
    permission=("update", "resources"),
    tags=("production", "resources"),
    errors=(NotFound,),
    summary="Remove a booking; its cost comes off the project's budget line",
)
async def unallocate(call: Call[Any, Any]) -> Deleted:
    company_id, resource_id = await _resource_company(call, "remove bookings")
    allocation_id = call.path_id("allocationId")
    project_id = await store(call).unallocate(company_id, resource_id, allocation_id)
    if project_id is None:
        raise NotFound("Booking not found")
    await announce(call, project_id, "bookings")
    return Deleted(id=allocation_id)
