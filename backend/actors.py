"""Who is acting: the holder of an API token, a person signed in through single sign-on,
or an anonymous public reader."""

from dataclasses import dataclass, field

from backend.models import Role


@dataclass(frozen=True)
class Actor:
    name: str
    role: Role | None = None
    organisation_id: int | None = None
    # The API token acted with; None for everyone else.
    token_id: int | None = None
    # The identity provider's `sub` of a person signed in through single sign-on; None for
    # everyone else.
    subject: str | None = None
    # Coalitions in which the actor's organisation is an ACTIVE member, read once per request.
    member_coalition_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_anonymous(self) -> bool:
        return self.role is None

    @property
    def is_secretariat(self) -> bool:
        return self.role is not None and self.role.is_secretariat

    @property
    def is_secretariat_admin(self) -> bool:
        return self.role is Role.SECRETARIAT_ADMIN

    @property
    def is_partner_writer(self) -> bool:
        return self.role in (Role.PARTNER_ADMIN, Role.PARTNER_EDITOR)

    @property
    def is_partner_admin(self) -> bool:
        return self.role is Role.PARTNER_ADMIN

    def belongs_to(self, organisation_id: int | None) -> bool:
        return organisation_id is not None and self.organisation_id == organisation_id

    def is_member_of(self, coalition_id: int) -> bool:
        return coalition_id in self.member_coalition_ids


ANONYMOUS = Actor(name="anonymous")
# The command line acts as the secretariat (it runs on the server, with database access).
SYSTEM = Actor(name="system", role=Role.SECRETARIAT_ADMIN)
