import asyncio
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from click.testing import Result
from typer.testing import CliRunner

from backend import models
from backend.cli import app
from backend.config import Settings
from backend.errors import Unauthenticated
from backend.services import tokens
from tests.factories import make_organisation
from tests.hub_processes import free_port

HUB = Path(sys.executable).parent / "coalition-hub"
COALITION_PAGE = """
{ coalition(slug: "learning-continuity") { id name memberships { organisation { name } } } }
"""
PLEDGE = """
mutation ($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) {
    __typename
    ... on Commitment { title stage amount currency organisation { name } }
    ... on Error { code message }
  }
}
"""


async def _invoke(settings: Settings, *args: str) -> Result:
    # The command runs its own event loop (asyncio.run), so it goes to a thread of its own.
    env = {"HUB_DATABASE_URL": settings.database_url}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


def _printed(result: Result, label: str) -> str:
    found = re.search(rf"^{label}:\s+(\S+)$", result.stdout, re.MULTILINE)
    assert found, result.output
    return found.group(1)


async def _token_count(session) -> int:
    return await session.scalar(sa.select(sa.func.count()).select_from(models.ApiToken))


@pytest.mark.parametrize("org", ["gb-coh-09000001", "bwt", "BRIGHTWAVE TELECOM"])
async def test_tokens_create_prints_a_secret_for_the_organisation_found_by_any_key(
    settings, session, org
):
    organisation = await make_organisation(
        session, name="Brightwave Telecom", acronym="BWT", iati_identifier="GB-COH-09000001"
    )

    result = await _invoke(
        settings, "tokens", "create", "--org", org, "--role", "PARTNER_EDITOR", "--name", "Ann"
    )

    secret = _printed(result, "token")
    actor = await tokens.authenticate(session, secret)
    assert result.exit_code == 0, result.output
    assert _printed(result, "prefix") == secret[:12]
    assert (actor.name, actor.role, actor.organisation_id) == (
        "Ann",
        models.Role.PARTNER_EDITOR,
        organisation.id,
    )


async def test_tokens_create_for_the_secretariat_takes_no_org_and_can_expire(settings, session):
    result = await _invoke(
        settings, "tokens", "create", "--role", "secretariat_analyst", "--expires-days", "7"
    )

    actor = await tokens.authenticate(session, _printed(result, "token"))
    token = await session.scalar(sa.select(models.ApiToken))
    assert result.exit_code == 0, result.output
    assert (actor.name, actor.role, actor.organisation_id) == (
        "SECRETARIAT_ANALYST (command line)",
        models.Role.SECRETARIAT_ANALYST,
        None,
    )
    assert abs(token.expires_at - token.created_at - dt.timedelta(days=7)) < dt.timedelta(minutes=1)


async def test_tokens_revoke_makes_the_secret_fail(settings, session):
    created = await _invoke(settings, "tokens", "create", "--role", "SECRETARIAT_ADMIN")
    secret, prefix = _printed(created, "token"), _printed(created, "prefix")

    revoked = await _invoke(settings, "tokens", "revoke", prefix)

    assert revoked.exit_code == 0, revoked.output
    assert revoked.stdout.startswith(f"Revoked {prefix} ")
    with pytest.raises(Unauthenticated):
        await tokens.authenticate(session, secret)


async def test_tokens_revoke_of_an_unknown_prefix_exits_1(settings):
    result = await _invoke(settings, "tokens", "revoke", "hub_unknown00")

    assert (result.exit_code, result.stderr) == (1, "error: No token with this prefix.\n")


async def test_tokens_create_for_an_unknown_org_exits_1_and_issues_nothing(settings, session):
    await make_organisation(session, name="Brightwave Telecom", acronym="BWT")

    result = await _invoke(
        settings, "tokens", "create", "--org", "Nowhere Inc", "--role", "PARTNER_EDITOR"
    )

    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "",
        "error: No organisation has 'Nowhere Inc' as its IATI identifier, acronym or name.\n",
    )
    assert await _token_count(session) == 0


async def test_tokens_create_for_an_ambiguous_org_exits_1_naming_the_candidates(settings, session):
    await make_organisation(session, name="Daybreak Radio", acronym="DAY")
    await make_organisation(session, name="Daybreak Television", acronym="DAY")

    result = await _invoke(settings, "tokens", "create", "--org", "day", "--role", "PARTNER_ADMIN")

    assert (result.exit_code, result.stderr) == (
        1,
        "error: 'day' matches several organisations: Daybreak Radio (acronym DAY, IATI -); "
        "Daybreak Television (acronym DAY, IATI -). Be more specific.\n",
    )
    assert await _token_count(session) == 0


async def test_tokens_create_of_a_partner_role_without_org_exits_1(settings, session):
    result = await _invoke(settings, "tokens", "create", "--role", "PARTNER_VIEWER")

    assert (result.exit_code, result.stderr) == (
        1,
        "error: --org: A partner token belongs to an organisation.\n",
    )
    assert await _token_count(session) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_healthy(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer /healthz within 20 s:\n{log.read_text()}")


@pytest.mark.skipif(
    os.environ.get("HUB_TEST_DATABASE") == "postgresql",
    reason="Runs in the SQLite pass: the README's commands need no PostgreSQL.",
)
def test_the_readme_commands_serve_the_demo_over_http(tmp_path):
    env = {**os.environ, "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"}

    def hub(*args: str) -> str:
        done = subprocess.run(
            [str(HUB), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    hub("migrate")
    seeded = hub("seed-demo")
    again = hub("seed-demo")
    partner_token = re.search(r"^PARTNER_EDITOR token for .*: (hub_\S+)$", seeded, re.M)
    assert partner_token, seeded
    port, log = _free_port(), tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(HUB), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base_url, server, log)
        with httpx.Client(base_url=base_url, timeout=30) as client:
            page = client.post("/graphql", json={"query": COALITION_PAGE}).json()
            coalition = page["data"]["coalition"]
            pledge = {
                "coalitionId": coalition["id"],
                "title": "Zero-rated data for exam revision",
                "resourceKind": "FINANCIAL",
                "amount": "25000",
                "currency": "GBP",
            }
            pledged = client.post(
                "/graphql",
                json={"query": PLEDGE, "variables": {"input": pledge}},
                headers={"Authorization": f"Bearer {partner_token.group(1)}"},
            ).json()
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert seeded.startswith("Seeded the demo in ")
    assert again.startswith("The demo is already seeded (coalition 'learning-continuity' exists)")
    assert re.search(r"^SECRETARIAT_ADMIN token: hub_\S+$", again, re.M)
    assert coalition["name"] == "Learning Continuity Coalition"
    assert len(coalition["memberships"]) >= 30
    assert {"organisation": {"name": "Brightwave Telecom"}} in coalition["memberships"]
    assert pledged == {
        "data": {
            "pledgeCommitment": {
                "__typename": "Commitment",
                "title": "Zero-rated data for exam revision",
                "stage": "PLEDGED",
                "amount": "25000.00",
                "currency": "GBP",
                "organisation": {"name": "Brightwave Telecom"},
            }
        }
    }


@pytest.mark.parametrize(("flags", "logged"), [((), True), (("--no-access-log",), False)])
async def test_serve_logs_a_line_per_request_unless_told_not_to(settings, flags, logged):
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        *(str(HUB), "serve", "--port", str(port), *flags),
        env={**os.environ, "HUB_DATABASE_URL": settings.database_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            async with asyncio.timeout(60):
                while True:
                    assert server.returncode is None, "the server exited"
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
    finally:
        server.terminate()
        output, _ = await server.communicate()

    assert ('"GET /healthz HTTP/1.1" 200' in output.decode()) is logged, output.decode()
