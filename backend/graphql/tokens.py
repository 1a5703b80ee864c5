"""API tokens: type, query and mutations."""

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlmodel import col
from strawberry.types import Info

from backend import models
from backend.errors import DomainError
from backend.graphql import errors, relay
from backend.graphql.context import Context
from backend.services import tokens

if TYPE_CHECKING:
    from backend.graphql.organisations import Organisation

from backend.graphql import organisations as organisation_types

TokenInfo = Info[Context, None]


@strawberry.type(description="An API token; the secret itself is shown only once, at creation.")
class ApiToken(relay.Node):
    prefix: str = strawberry.field(description="The secret's first characters, to recognise it.")
    name: str = strawberry.field(description="Who or what holds it.")
    role: models.Role = strawberry.field(description="What it may do.")
    created_at: dt.datetime = strawberry.field(description="When it was issued.")
    expires_at: dt.datetime | None = strawberry.field(description="When it stops working.")
    revoked_at: dt.datetime | None = strawberry.field(description="When it was revoked.")
    model: strawberry.Private[models.ApiToken]

    @classmethod
    def from_model(cls, token: models.ApiToken) -> "ApiToken":
        return cls(
            id=relay.to_global_id("ApiToken", token.id),
            prefix=token.prefix,
            name=token.name,
            role=token.role,
            created_at=token.created_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
            model=token,
        )

    @strawberry.field(description="The organisation it acts for; null for the secretariat.")
    async def organisation(
        self, info: TokenInfo
    ) -> Annotated["Organisation", strawberry.lazy("backend.graphql.organisations")] | None:
        if self.model.organisation_id is None:
            return None
        organisation = await info.context.loaders.organisation.load(self.model.organisation_id)
        return organisation_types.Organisation.from_model(organisation) if organisation else None


@strawberry.type(description="A new token and its secret. Store the secret now: it is not kept.")
class IssuedApiToken:
    token: ApiToken = strawberry.field(description="The token.")
    secret: str = strawberry.field(description="Send as `Authorization: Bearer <secret>`.")


@strawberry.input(description="A new API token.")
class CreateApiTokenInput:
    name: str = strawberry.field(description="Who or what will hold it.")
    role: models.Role = strawberry.field(description="What it may do.")
    organisation_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for partner roles; none for secretariat roles."
    )
    expires_at: dt.datetime | None = strawberry.field(default=None, description="Optional expiry.")


@strawberry.input(description="Revoke a token by its prefix.")
class RevokeApiTokenInput:
    prefix: str = strawberry.field(description="The token's prefix.")


Problems = errors.ValidationFailed | errors.NotFound | errors.PermissionDenied | errors.Conflict
CreateApiTokenResult = Annotated[
    IssuedApiToken | Problems,
    strawberry.union("CreateApiTokenResult", description="The token, or why not."),
]
RevokeApiTokenResult = Annotated[
    ApiToken | Problems,
    strawberry.union("RevokeApiTokenResult", description="The revoked token, or why not."),
]


@strawberry.type
class Query:
    @strawberry.field(description="Tokens of an organisation (its admins), or all (secretariat).")
    async def api_tokens(
        self, info: TokenInfo, organisation_id: strawberry.ID | None = None
    ) -> list[ApiToken]:
        try:
            decoded = relay.decode_optional_id(
                organisation_id, "Organisation", field="organisation_id"
            )
            statement = tokens.listing(info.context.actor, organisation_id=decoded)
        except DomainError as error:
            raise errors.for_query(error) from error
        async with info.context.reading() as session:
            rows = await session.scalars(statement.order_by(col(models.ApiToken.id)))
            return [ApiToken.from_model(row) for row in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Issue a token: partner admins for their organisation, "
        "secretariat admins for anyone."
    )
    async def create_api_token(
        self, info: TokenInfo, input: CreateApiTokenInput
    ) -> CreateApiTokenResult:
        try:
            organisation_id = relay.decode_optional_id(
                input.organisation_id, "Organisation", field="organisation_id"
            )
            async with info.context.transaction() as session:
                issued = await tokens.create(
                    session,
                    info.context.actor,
                    name=input.name,
                    role=input.role,
                    organisation_id=organisation_id,
                    expires_at=input.expires_at,
                )
        except DomainError as error:
            return errors.from_domain(error)
        return IssuedApiToken(token=ApiToken.from_model(issued.token), secret=issued.secret)

    @strawberry.mutation(description="Revoke a token at once.")
    async def revoke_api_token(
        self, info: TokenInfo, input: RevokeApiTokenInput
    ) -> RevokeApiTokenResult:
        try:
            async with info.context.transaction() as session:
                token = await tokens.revoke(session, info.context.actor, prefix=input.prefix)
        except DomainError as error:
            return errors.from_domain(error)
        return ApiToken.from_model(token)


@relay.node_resolver("ApiToken")
async def resolve_node(info: TokenInfo, id: int) -> ApiToken | None:
    async with info.context.reading() as session:
        token = await session.get(models.ApiToken, id)
    if token is None:
        return None
    try:
        tokens.listing(info.context.actor, organisation_id=token.organisation_id)
    except DomainError:
        return None
    return ApiToken.from_model(token)
