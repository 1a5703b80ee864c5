"""The dashboard's reports kept between writes (backend/graphql/report_cache.py): answered
again without reading the figures, recomputed after any committed write, after an embargo
ends and at midnight, never shared across visibility scopes, never kept with errors, and
computed once for concurrent readers of one missed entry."""

import asyncio
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend import models
from backend.graphql import report_cache
from backend.graphql.trusted_documents import TrustedDocuments
from tests.apps import app_with, client_of
from tests.conftest import StatementCounter
from tests.factories import (
    gid,
    make_coalition,
    make_commitment,
    make_membership,
    make_organisation,
    make_token,
)
from tests.hub_processes import two_processes

OPERATIONS = Path(__file__).parents[2] / "schema/operations"
DASHBOARD = (OPERATIONS / "dashboard.graphql").read_text()
TRACKING = (OPERATIONS / "delivery_tracking.graphql").read_text()
PLEDGE = """
mutation ($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) { __typename ... on Commitment { ref } }
}
"""


def _body(operation: str, **variables: Any) -> dict[str, Any]:
    document = TRACKING if operation == "DeliveryTracking" else DASHBOARD
    return {"query": document, "operationName": operation, "variables": variables}


async def _ask(
    client: httpx.AsyncClient, body: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _pledge_of_250(coalition: models.Coalition, title: str) -> dict[str, Any]:
    """PledgeCommitmentInput: 250 USD in cash."""
    return {
        "coalitionId": gid(coalition),
        "title": title,
        "resourceKind": "FINANCIAL",
        "amount": "250",
        "currency": "USD",
    }


def _pledged(answer: dict[str, Any]) -> str:
    assert "errors" not in answer, answer
    return answer["data"]["coalition"]["dashboard"]["totals"]["pledgedUsd"]


def _figure_reads(counter: StatementCounter) -> list[str]:
    """Statements that read commitments: the report's, not the token's lookup."""
    return [sql for sql in counter.statements if "commitments" in sql]


Partner = tuple[models.Coalition, str, models.Organisation]


@pytest.fixture
async def partner(session: Any) -> Partner:
    """A coalition whose one member pledged 1,000 USD, and an editor's token of it."""
    coalition = await make_coalition(session)
    organisation = await make_organisation(session, name="Brightwave Telecom")
    await make_membership(session, coalition, organisation)
    await make_commitment(session, coalition, organisation, amount=Decimal("1000"))
    token = await make_token(session, models.Role.PARTNER_EDITOR, organisation)
    return coalition, token, organisation


async def test_a_report_is_answered_again_without_reading_its_figures(
    settings, engine, session, statement_counter, partner
):
    coalition, _, _ = partner
    admin = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    body = _body("CoalitionDashboard", slug=coalition.slug)
    async with app_with(settings, engine, read_cache=True) as app, client_of(app) as client:
        first = await _ask(client, body, admin)
        computed = _figure_reads(statement_counter)
        statement_counter.reset()
        again = await _ask(client, body, admin)

    assert computed, "the first answer reads the figures"
    assert _figure_reads(statement_counter) == []
    assert again == first
    assert _pledged(first) == "1000.00"


async def test_a_committed_write_is_in_the_next_report(settings, engine, session, partner):
    coalition, token, _ = partner
    body = _body("CoalitionDashboard", slug=coalition.slug)
    pledge = _pledge_of_250(coalition, "Connectivity for 200 schools")
    async with app_with(settings, engine, read_cache=True) as app, client_of(app) as client:
        before = _pledged(await _ask(client, body, token))
        # Behind the hub's back (no write path, no bump): still the kept answer.
        await make_commitment(
            session, coalition, await make_organisation(session), amount=Decimal("1000")
        )
        kept = _pledged(await _ask(client, body, token))
        pledged = await _ask(client, {"query": PLEDGE, "variables": {"input": pledge}}, token)
        after = _pledged(await _ask(client, body, token))

    assert pledged["data"]["pledgeCommitment"]["__typename"] == "Commitment"
    assert before == kept == "1000.00"
    # The pledge, and the commitment written behind its back before it.
    assert after == "2250.00"


async def test_processes_share_kept_reports_and_every_write_clears_them(
    settings, session, redis_url, redis_prefix, partner
):
    coalition, token, _ = partner
    body = _body("CoalitionDashboard", slug=coalition.slug)
    pledge = _pledge_of_250(coalition, "Radio lessons")
    async with (
        two_processes(settings, redis_url, redis_prefix) as (first, second),
        httpx.AsyncClient(base_url=f"http://{first}") as one,
        httpx.AsyncClient(base_url=f"http://{second}") as other,
    ):
        computed = _pledged(await _ask(one, body, token))
        # Behind the hub's back: the other process answers what the first one kept.
        await make_commitment(
            session, coalition, await make_organisation(session), amount=Decimal("1000")
        )
        shared = _pledged(await _ask(other, body, token))
        await _ask(other, {"query": PLEDGE, "variables": {"input": pledge}}, token)
        after = _pledged(await _ask(one, body, token))

    assert computed == shared == "1000.00"
    assert after == "2250.00"


async def test_readers_never_share_an_answer(settings, engine, session, partner):
    coalition, owner_token, owner = partner
    other = await make_organisation(session, name="Other Foundation")
    await make_membership(session, coalition, other)
    other_token = await make_token(session, models.Role.PARTNER_VIEWER, other)
    await make_commitment(
        session,
        coalition,
        owner,
        amount=Decimal("5000000"),
        visibility=models.Visibility.CONFIDENTIAL,
    )
    body = _body("CoalitionDashboard", slug=coalition.slug)
    async with app_with(settings, engine, read_cache=True) as app, client_of(app) as client:
        owner_sees = _pledged(await _ask(client, body, owner_token))
        other_sees = _pledged(await _ask(client, body, other_token))
        anonymous_sees = _pledged(await _ask(client, body))

    assert owner_sees == "5001000.00"
    assert other_sees == anonymous_sees == "1000.00"


async def test_an_embargo_ending_is_in_the_next_report(settings, engine, session, partner):
    coalition, _, _ = partner
    ends = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)
    embargoed_by = await make_organisation(session)
    await make_commitment(
        session, coalition, embargoed_by, amount=Decimal("40"), embargo_until=ends
    )
    body = _body("CoalitionDashboard", slug=coalition.slug)
    async with app_with(settings, engine, read_cache=True) as app, client_of(app) as client:
        during = [_pledged(await _ask(client, body)) for _ in range(2)]
        await asyncio.sleep((ends - dt.datetime.now(dt.UTC)).total_seconds() + 0.1)
        after = _pledged(await _ask(client, body))

    assert during == ["1000.00", "1000.00"]
    assert after == "1040.00"


async def test_an_anonymous_report_is_answered_again_before_the_graphql_stack(
    settings, engine, session, statement_counter, partner
):
    coalition, _, _ = partner
    body = _body("CoalitionDashboard", slug=coalition.slug)
    async with app_with(settings, engine, read_cache=True) as app, client_of(app) as client:
        first = await client.post("/graphql", json=body)
        hits = report_cache.ReportCache.hits
        statement_counter.reset()
        again = await client.post("/graphql", json=body)

    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert statement_counter.statements == []
    # Not from the extension's lookup: the read lane answered it.
    assert report_cache.ReportCache.hits == hits


def test_an_answer_is_kept_until_midnight_at_the_latest() -> None:
    now = dt.datetime(2026, 12, 2, 23, 59, 59, tzinfo=dt.UTC).astimezone()
    midnight = report_cache.next_midnight(now)

    assert midnight > now
    assert midnight - now <= dt.timedelta(days=1)
    assert midnight.astimezone().time() == dt.time()
    assert report_cache.next_midnight(midnight) == midnight + dt.timedelta(days=1)


async def test_a_refusal_is_not_kept(settings, engine, session, partner):
    _, token, _ = partner
    body = _body("PortfolioDashboard")
    async with app_with(settings, engine, read_cache=True) as app, client_of(app) as client:
        refused = await _ask(client, body, token)
        misses = report_cache.ReportCache.misses
        again = await _ask(client, body, token)

    assert refused["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert again["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert report_cache.ReportCache.misses == misses


async def test_only_the_trusted_report_documents_are_kept(
    settings, engine, session, statement_counter, partner
):
    coalition, _, _ = partner
    admin = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    # The secretariat may send any document; one named like a report is not one.
    ad_hoc = {
        "query": "query CoalitionDashboard($slug: String!) "
        "{ coalition(slug: $slug) { dashboard { totals { commitments } } } }",
        "operationName": "CoalitionDashboard",
        "variables": {"slug": coalition.slug},
    }
    async with app_with(settings, engine, read_cache=True) as app, client_of(app) as client:
        await _ask(client, ad_hoc, admin)
        statement_counter.reset()
        await _ask(client, ad_hoc, admin)

    assert _figure_reads(statement_counter) != []


async def test_concurrent_readers_of_a_missed_report_compute_it_once(
    settings, engine, session, statement_counter, partner
):
    coalition, _, _ = partner
    admin = await make_token(session, models.Role.SECRETARIAT_ANALYST)
    body = _body("DeliveryTracking", slug=coalition.slug)
    async with app_with(settings, engine, read_cache=True) as app, client_of(app) as client:
        # One reader alone, with the cache off, reads this many statements for it.
        async with (
            app_with(settings, engine, read_cache=False) as uncached,
            client_of(uncached) as alone,
        ):
            await _ask(alone, body, admin)
        one_answer = len(_figure_reads(statement_counter))
        statement_counter.reset()
        answers = await asyncio.gather(*(_ask(client, body, admin) for _ in range(4)))

    assert all("errors" not in answer for answer in answers)
    assert len({str(answer) for answer in answers}) == 1
    assert len(_figure_reads(statement_counter)) == one_answer


def test_every_report_operation_is_a_trusted_query() -> None:
    queries = TrustedDocuments(OPERATIONS).queries()
    reports = {
        name for name, body in queries.items() if "dashboard(" in body or "portfolio(" in body
    }

    assert reports == report_cache.REPORT_OPERATIONS


async def test_an_answer_that_cannot_be_kept_is_still_given(
    settings, engine, session, monkeypatch, partner
):
    coalition, token, _ = partner
    body = _body("CoalitionDashboard", slug=coalition.slug)
    async with app_with(settings, engine, read_cache=True) as app, client_of(app) as client:

        async def refuse(*_: Any) -> None:
            raise RuntimeError("the cache is full")

        monkeypatch.setattr(app.state.read_cache, "put", refuse)
        answers = [_pledged(await _ask(client, body, token)) for _ in range(2)]

    assert answers == ["1000.00", "1000.00"]
