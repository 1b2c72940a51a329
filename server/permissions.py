"""The seed's portal permission matrix, as one declared table every endpoint consults.

Where the seed is silent and the product needs more, the additions are marked, so the table stays
the single answer to "may a <portal> account <action> a <resource>?". Object ownership (is this
*your* pitch?) is checked separately, on every id in a path.
"""

from __future__ import annotations

from typing import Literal

Action = Literal["create", "read", "update", "delete"]

PERMISSIONS: dict[str, dict[Action, frozenset[str]]] = {
    "creator": {
        "create": frozenset(
            {"pitch", "media", "nda_template", "message", "follow"}
        ),  # added: messaging, following
        "read": frozenset(
            {
                "own_pitches",
                "analytics",
                "nda_requests",
                "public_pitches",
                "messages",
                "notifications",
                "nda_template",  # added: one's own NDA templates
                "nda_agreements",  # added: signed NDA agreements, either side
            }
        ),  # added: reading
        "update": frozenset(
            {
                "own_pitches",
                "profile",
                "nda_requests",  # added: NDA decisions
                "notifications",
                "preferences",  # added: notification settings
                "nda_template",  # added: editing writes a new version
            }
        ),
        "delete": frozenset({"own_pitches", "media", "follow", "nda_template"}),  # added: templates
    },
    "investor": {
        "create": frozenset(
            {"investment", "nda_request", "message", "payment", "follow", "saved_pitches"}
        ),  # added: payments, following, saving (the seed deletes saved pitches)
        "read": frozenset(
            {
                "public_pitches",
                "portfolio",
                "analytics",
                "messages",
                "notifications",
                "payments",
                "sent_nda_requests",
                "signed_ndas",
                "saved_pitches",
                "nda_agreements",  # added: signed NDA agreements (the document)
            }
        ),  # added: own NDA lists, saved pitches
        "update": frozenset({"profile", "preferences", "notifications"}),
        "delete": frozenset({"saved_pitches", "follow"}),
    },
    "production": {
        "create": frozenset(
            {"project", "team", "resource", "nda_request", "message", "payment", "follow"}
        ),  # added
        "read": frozenset(
            {
                "all_projects",
                "team_data",
                "resources",  # added: the resources list (the seed lists only their update)
                "budgets",
                "public_pitches",
                "analytics",
                "messages",
                "notifications",
                "payments",
                "sent_nda_requests",
                "signed_ndas",
                "nda_agreements",  # added: signed NDA agreements (the document)
            }
        ),  # added: own NDA lists
        "update": frozenset(
            {"projects", "resources", "timeline", "profile", "notifications", "team", "preferences"}
        ),  # added: team (roles, accepting an invitation), preferences (notification settings)
        "delete": frozenset({"projects", "resources", "follow", "team"}),  # added: team members
    },
}


def allowed(user_type: str, action: Action, resource: str) -> bool:
    return resource in PERMISSIONS.get(user_type, {}).get(action, frozenset())


def portals_for(action: Action, resource: str) -> tuple[str, ...]:
    """The portals that may do this, in the matrix's order (for docs and error messages)."""
    return tuple(p for p in PERMISSIONS if allowed(p, action, resource))


# Operators are not a portal, so they are not in this table: a role any account may hold on top of
# its portal, granted only on the server (`pitchey operator add EMAIL`, storage/operators.py) and
# read on every request by server/routes/ops.py (`require_operator`) and once a second by the live
# sessions watching `metrics:ops` (rooms/metrics.py). docs/ops.md.
