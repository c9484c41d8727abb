"""The roles and the permissions each grants; the table in docs/access.md mirrors it.

Only admin and privacy_officer may export or erase a person's data (PDPA sections 30 and
33): both hand over or destroy personal data irreversibly, so they stay with the people
accountable for data-subject requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from sampan.access.schemas import ALL_PERMISSIONS, Permission
from sampan.core.errors import InvalidInput

P = Permission


@dataclass(frozen=True)
class Role:
    """A named set of permissions."""

    name: str
    description: str
    permissions: frozenset[str]


def _role(name: str, description: str, *permissions: str) -> Role:
    return Role(name, description, frozenset(permissions))


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        _role("admin", "Everything, including users, keys and erasure", ALL_PERMISSIONS),
        _role(
            "privacy_officer",
            "Consent, data-subject requests, export, erasure, retention and the audit log",
            P.PROFILES_READ,
            P.PII_READ,
            P.CONSENT_READ,
            P.CONSENT_WRITE,
            P.PRIVACY_REQUESTS,
            P.PRIVACY_EXPORT,
            P.PRIVACY_ERASE,
            P.RETENTION_MANAGE,
            P.AUDIT_READ,
            P.EVENTS_READ,
        ),
        _role(
            "service_agent",
            "Call centre and chat: sees and edits customers, records consent and requests",
            P.PROFILES_READ,
            P.PROFILES_WRITE,
            P.PII_READ,
            P.CONSENT_READ,
            P.CONSENT_WRITE,
            P.PRIVACY_REQUESTS,
            P.EVENTS_READ,
            P.COMMERCE_READ,
            P.MESSAGING_READ,
            P.MESSAGING_SEND,
        ),
        _role(
            "store_staff",
            "Branch staff: finds the customer at the counter, records consent, sells",
            P.PROFILES_READ,
            P.PII_READ,
            P.CONSENT_READ,
            P.CONSENT_WRITE,
            P.COMMERCE_READ,
            P.COMMERCE_WRITE,
        ),
        _role(
            "marketer",
            "Segments, journeys and campaigns on masked profiles",
            P.PROFILES_READ,
            P.CONSENT_READ,
            P.EVENTS_READ,
            P.SEGMENTS_READ,
            P.SEGMENTS_WRITE,
            P.JOURNEYS_READ,
            P.JOURNEYS_WRITE,
            P.MESSAGING_READ,
            P.MESSAGING_SEND,
        ),
        _role(
            "analyst",
            "Reads everything analytical, personal data masked",
            P.PROFILES_READ,
            P.CONSENT_READ,
            P.EVENTS_READ,
            P.SEGMENTS_READ,
            P.JOURNEYS_READ,
            P.COMMERCE_READ,
            P.OPERATIONS_READ,
            P.MESSAGING_READ,
        ),
        _role(
            "developer",
            "Sources, API keys, events and operations, personal data masked",
            P.SOURCES_MANAGE,
            P.KEYS_MANAGE,
            P.OPERATIONS_READ,
            P.EVENTS_READ,
            P.PROFILES_READ,
            P.CHANNELS_MANAGE,
            P.MESSAGING_READ,
            P.MESSAGING_RECEIPTS,
        ),
    )
}


def role_named(name: str) -> Role:
    """Return the role, or raise InvalidInput listing the roles that exist."""
    role = ROLES.get(name)
    if role is None:
        raise InvalidInput(f"unknown role '{name}': roles are {', '.join(ROLES)}")
    return role


def expand(permissions: frozenset[str]) -> frozenset[str]:
    """Return the permissions spelled out, "*" replaced by every permission there is."""
    if ALL_PERMISSIONS in permissions:
        return frozenset(p.value for p in Permission)
    return permissions


def permissions_of(role: str, scopes: list[str] | None = None) -> frozenset[str]:
    """Return what a role grants, narrowed to ``scopes`` when given; nothing for a lost role."""
    granted = ROLES[role].permissions if role in ROLES else frozenset[str]()
    if scopes is None:
        return granted
    return frozenset(scopes) & expand(granted)


def check_scopes(role: Role, scopes: list[str]) -> None:
    """Raise InvalidInput unless every scope is a permission the role grants."""
    known = {p.value for p in Permission}
    for scope in scopes:
        if scope not in known:
            raise InvalidInput(
                f"unknown permission '{scope}' in scopes: "
                f"permissions are {', '.join(sorted(known))}"
            )
        if scope not in expand(role.permissions):
            raise InvalidInput(
                f"scope '{scope}' is not a permission of role '{role.name}': "
                f"it grants {', '.join(sorted(expand(role.permissions)))}"
            )
