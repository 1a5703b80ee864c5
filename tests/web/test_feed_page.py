"""The /feed wall screen, driven in headless Chromium (Debian's, through Playwright), served
in production mode: only trusted documents, and its content security policy in force."""

import asyncio
import os
import shutil
from pathlib import Path

import httpx
import pytest_asyncio
from playwright.async_api import async_playwright

from backend import models
from backend.main import create_app
from tests.factories import gid, make_coalition, make_membership, make_organisation, make_token
from tests.required import missing
from tests.servers import serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps trying to reach Google's services, which this network refuses.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Production refuses a partner's ad-hoc documents: the portal's own pledge, then.
WRITES = Path(__file__).resolve().parents[2] / "schema" / "operations" / "portal_writes.graphql"
PLEDGE = WRITES.read_text("utf-8")


@pytest_asyncio.fixture(loop_scope="session")
async def browser():
    if not await asyncio.to_thread(os.path.exists, CHROMIUM):
        missing(f"Chromium not found at {CHROMIUM}; .ci/run installs Debian's chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        await browser.close()


async def pledge(server, coalition, token, title):
    input = {
        "coalitionId": gid(coalition),
        "title": title,
        "resourceKind": "MIXED",
        "amount": "25000",
        "currency": "EUR",
        "inKind": [
            {"category": "DEVICES", "description": "Tablets", "quantity": "300", "unit": "device"}
        ],
    }
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        response = await client.post(
            "/graphql",
            json={
                "query": PLEDGE,
                "operationName": "PledgeCommitment",
                "variables": {"input": input},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.json()["data"]["pledgeCommitment"]["__typename"] == "Commitment"


@pytest_asyncio.fixture(loop_scope="session")
async def production_server(settings, engine):
    production = settings.model_copy(
        update={"env": "production", "relay_interval": 0.2, "ws_init_timeout": 2.0}
    )
    async with serve(create_app(production, engine=engine)) as server:
        yield server


async def test_the_wall_screen_shows_pledges_live_and_after_a_reconnect(
    production_server, browser, session
):
    live_server = production_server
    coalition = await make_coalition(session, name="Learning Continuity Coalition")
    organisation = await make_organisation(session, name="Brightwave Telecom")
    await make_membership(session, coalition, organisation)
    token = await make_token(session, models.Role.PARTNER_EDITOR, organisation)
    page = await browser.new_page()
    await page.goto(f"{live_server.http_url}/feed?coalition={gid(coalition)}")
    state = page.locator("#state")
    await state.filter(has_text="live").wait_for()

    await pledge(live_server, coalition, token, "Tablets for Nairobi schools")
    first = page.locator("li", has_text="Tablets for Nairobi schools")
    await first.wait_for()
    first_text = await first.inner_text()
    # Cut the socket, pledge while the page is away, and let it reconnect with its cursor.
    await page.evaluate("socket.close()")
    await state.filter(has_text="offline").wait_for()
    await pledge(live_server, coalition, token, "Laptops for Lagos teachers")
    await state.filter(has_text="live").wait_for()
    missed = page.locator("li", has_text="Laptops for Lagos teachers")
    await missed.wait_for()
    shown = await page.locator("li").all_inner_texts()
    await page.close()

    assert "Brightwave Telecom" in first_text
    assert "25,000 EUR" in first_text
    assert "300 device" in first_text
    assert sum("Tablets for Nairobi schools" in text for text in shown) == 1
    assert sum("Laptops for Lagos teachers" in text for text in shown) == 1
