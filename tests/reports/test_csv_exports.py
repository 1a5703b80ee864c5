"""The CSV exports write every row whole and exactly, in the formats the importer reads."""

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from backend import models
from backend.actors import SYSTEM, Actor
from backend.graphql.dashboard import scope_for
from backend.reports import csv_exports, filters
from backend.web.exports import prepare
from tests.factories import in_kind_line, make_coalition, make_commitment, make_organisation
from tests.reports.exported import export_bytes, exported, rows_of
from tests.reports.exports_world import build

RECORDED = "2025-06-10T09:30:00.123456Z"
PROGRESS = "2025-07-01T12:00:00Z"


def row(columns: tuple[str, ...], **cells: Any) -> list[Any]:
    """A whole row: the cells given, every other one empty."""
    assert set(cells) <= set(columns), set(cells) - set(columns)
    return [cells.get(column, "") for column in columns]


def commitment(**cells: Any) -> list[Any]:
    return row(csv_exports.COMMITMENT_COLUMNS, coalition="learning-continuity", **cells)


def delivery(**cells: Any) -> list[Any]:
    return row(csv_exports.DELIVERY_COLUMNS, **cells)


def with_lines_parsed(rows: list[list[str]]) -> list[list[Any]]:
    at = csv_exports.COMMITMENT_COLUMNS.index("in_kind_lines")
    return [
        [json.loads(cell) if index == at and cell else cell for index, cell in enumerate(values)]
        for values in rows
    ]


def line(**fields: Any) -> dict[str, Any]:
    return {name: fields.get(name) for name in csv_exports.LINE_FIELDS}


async def test_commitments_csv_has_one_exact_row_per_commitment_withdrawn_ones_included(
    session, session_factory
):
    world = await build(session)

    header, *rows = await exported(session_factory, "commitments", coalition="learning-continuity")

    assert ",".join(header) == (
        "ref,coalition,workstream,organisation,organisation_country,title,description,stage,"
        "resource_kind,amount,currency,value_date,earmarking,usd_rate,usd_rate_date,"
        "usd_rate_source,amount_usd,in_kind_lines,in_kind_value_usd,countries,sdg_targets,"
        "sectors,start_date,end_date,visibility,embargo_until,funded_through,closing_reason,"
        "last_progress_at,created_at"
    )
    assert with_lines_parsed(rows) == [
        commitment(
            ref=world.cash.ref,
            workstream="Connectivity",
            organisation="GB-COH-09000001",
            organisation_country="GB",
            title="Data bundles, cash part",
            description="Paid in two tranches.",
            stage="IN_DELIVERY",
            resource_kind="FINANCIAL",
            amount="10000.5",
            currency="EUR",
            value_date="2025-06-10",
            earmarking="2",
            usd_rate="1.08",
            usd_rate_date="2025-06-01",
            usd_rate_source="ECB",
            amount_usd="10800.54",
            countries="KE;UG",
            sdg_targets="4.1;4.5",
            sectors="11220",
            start_date="2025-06-01",
            end_date="2026-05-31",
            visibility="PUBLIC",
            last_progress_at=PROGRESS,
            created_at=RECORDED,
        ),
        commitment(
            ref=world.in_kind.ref,
            organisation="Kalinga Reading Corps",
            organisation_country="KE",
            title="Reading devices",
            stage="IN_DELIVERY",
            resource_kind="IN_KIND",
            in_kind_lines=[
                line(
                    category="CONNECTIVITY",
                    description="Mobile data for learners",
                    quantity="5000",
                    unit="GB",
                    fair_value="1200",
                    fair_value_currency="USD",
                    valuation_method="List price",
                    free_of_charge=True,
                    fair_value_usd="1200",
                    usd_rate="1",
                    usd_rate_date="2025-06-10",
                    usd_rate_source="identity",
                ),
                line(
                    category="DEVICES",
                    description="E-readers",
                    quantity="30",
                    unit="device",
                    free_of_charge=False,
                    free_until="2026-01-31",
                ),
            ],
            in_kind_value_usd="1200",
            countries="KE",
            visibility="PUBLIC",
            last_progress_at=PROGRESS,
            created_at=RECORDED,
        ),
        commitment(
            ref=world.mixed.ref,
            organisation="GB-COH-09000001",
            organisation_country="GB",
            title="Training and cash",
            stage="PLEDGED",
            resource_kind="MIXED",
            amount="5000",
            currency="USD",
            value_date="2025-06-12",
            usd_rate="1",
            usd_rate_date="2025-06-12",
            usd_rate_source="identity",
            amount_usd="5000",
            in_kind_lines=[
                line(
                    category="TRAINING",
                    description="Teacher training seats",
                    quantity="10",
                    unit="seat",
                    fair_value="900",
                    fair_value_currency="EUR",
                    valuation_method="Course fee",
                    free_of_charge=True,
                    fair_value_usd="972",
                    usd_rate="1.08",
                    usd_rate_date="2025-06-01",
                    usd_rate_source="ECB",
                )
            ],
            in_kind_value_usd="972",
            visibility="PUBLIC",
            created_at=RECORDED,
        ),
        # No KES rate: the USD cells stay empty (unconverted), never 0.
        commitment(
            ref=world.unconverted.ref,
            organisation="Kalinga Reading Corps",
            organisation_country="KE",
            title="Shillings, no rate",
            stage="PLEDGED",
            resource_kind="FINANCIAL",
            amount="2000000",
            currency="KES",
            value_date="2025-06-15",
            visibility="PUBLIC",
            created_at=RECORDED,
        ),
        commitment(
            ref=world.passed_through.ref,
            organisation="Kalinga Reading Corps",
            organisation_country="KE",
            title="Through Brightwave",
            stage="COMMITTED",
            resource_kind="FINANCIAL",
            amount="3000",
            currency="USD",
            value_date="2025-06-20",
            usd_rate="1",
            usd_rate_date="2025-06-20",
            usd_rate_source="identity",
            amount_usd="3000",
            visibility="PUBLIC",
            funded_through=world.cash.ref,
            last_progress_at=PROGRESS,
            created_at=RECORDED,
        ),
        commitment(
            ref=world.confidential.ref,
            organisation="GB-COH-09000001",
            organisation_country="GB",
            title="Undisclosed grant",
            stage="PLEDGED",
            resource_kind="FINANCIAL",
            amount="7000",
            currency="USD",
            value_date="2025-06-25",
            usd_rate="1",
            usd_rate_date="2025-06-25",
            usd_rate_source="identity",
            amount_usd="7000",
            visibility="CONFIDENTIAL",
            embargo_until="2025-09-01T00:00:00Z",
            created_at=RECORDED,
        ),
        commitment(
            ref=world.withdrawn.ref,
            organisation="Kalinga Reading Corps",
            organisation_country="KE",
            title="Withdrawn pledge",
            stage="WITHDRAWN",
            resource_kind="FINANCIAL",
            amount="1500",
            currency="USD",
            value_date="2025-07-05",
            usd_rate="1",
            usd_rate_date="2025-07-05",
            usd_rate_source="identity",
            amount_usd="1500",
            visibility="PUBLIC",
            closing_reason="Test",
            last_progress_at=PROGRESS,
            created_at=RECORDED,
        ),
    ]


async def test_deliveries_csv_has_one_exact_row_per_delivery_of_every_status(
    session, session_factory
):
    world = await build(session)

    header, *rows = await exported(session_factory, "deliveries", coalition="learning-continuity")

    assert ",".join(header) == (
        "commitment,key,delivered_on,amount,currency,amount_usd,usd_rate,usd_rate_date,"
        "usd_rate_source,in_kind_line,quantity,unit,in_kind_value_usd,country,"
        "receiving_organisation,beneficiaries,beneficiary_share,evidence_url,note,status,"
        "reported_by,reviewed_by,reviewed_at,dispute_reason,created_at"
    )
    assert rows == [
        delivery(
            commitment=world.cash.ref,
            key="tranche-1",
            delivered_on="2025-07-01",
            amount="1000",
            currency="EUR",
            amount_usd="1080",
            usd_rate="1.08",
            usd_rate_date="2025-06-01",
            usd_rate_source="ECB",
            country="KE",
            receiving_organisation="Escola Aberta",
            beneficiaries="120",
            beneficiary_share="50",
            evidence_url="https://evidence.example/1",
            note="First tranche; schools in Kisumu",
            status="REPORTED",
            reported_by="Secretariat desk",
            created_at="2025-07-02T08:00:00Z",
        ),
        delivery(
            commitment=world.cash.ref,
            key=f"delivery-{world.confirmed.id}",
            delivered_on="2025-06-20",
            amount="500.25",
            currency="EUR",
            amount_usd="540.27",
            usd_rate="1.08",
            usd_rate_date="2025-06-01",
            usd_rate_source="ECB",
            receiving_organisation="GB-COH-09000001",
            beneficiaries="3",
            beneficiary_share="33.33",
            status="CONFIRMED",
            reported_by="Secretariat desk",
            reviewed_by="Amina Reviewer",
            reviewed_at="2025-07-03T10:15:00Z",
            created_at="2025-07-02T08:00:00Z",
        ),
        # Half of the 5,000 GB line valued at 1,200 USD.
        delivery(
            commitment=world.in_kind.ref,
            key=f"delivery-{world.disputed.id}",
            delivered_on="2025-08-15",
            in_kind_line="0",
            quantity="2500",
            unit="GB",
            in_kind_value_usd="600",
            status="DISPUTED",
            reported_by="Secretariat desk",
            reviewed_by="Amina Reviewer",
            reviewed_at="2025-07-03T10:15:00Z",
            dispute_reason="Only half arrived",
            created_at="2025-07-02T08:00:00Z",
        ),
    ]


async def test_organisations_csv_of_a_coalition_names_every_organisation_its_files_name(
    session, session_factory
):
    await build(session)

    in_coalition = await exported(session_factory, "organisations", coalition="learning-continuity")
    everyone = await exported(session_factory, "organisations")

    header = (
        "iati_identifier,name,acronym,organisation_type,hub_category,country,website,description"
    )
    brightwave = [
        "GB-COH-09000001",
        "Brightwave Telecom",
        "BWT",
        "70",
        "",
        "GB",
        "https://brightwave.example",
        'Mobile operator, "Brightwave", with data bundles,\nfor learners.',
    ]
    kalinga = ["", "Kalinga Reading Corps", "", "21", "", "KE", "", ""]
    # Escola Aberta is no member and made no commitment: it received a delivery.
    escola = ["", "Escola Aberta", "", "22", "", "BR", "", ""]
    outsider = ["", "Outsider Fund", "", "70", "", "US", "", ""]
    assert in_coalition == [header.split(","), brightwave, kalinga, escola]
    assert everyone == [header.split(","), brightwave, kalinga, escola, outsider]


async def test_an_organisation_hosting_the_coalition_is_in_its_organisations_csv(
    session, session_factory
):
    host = await make_organisation(session, name="UNESCO", iati_identifier="XM-DAC-41304")
    await make_coalition(session, slug="hosted", host_organisation_id=host.id)
    await make_organisation(session, name="Bystander")

    rows = await exported(session_factory, "organisations", coalition="hosted")

    assert [values[:2] for values in rows[1:]] == [["XM-DAC-41304", "UNESCO"]]


async def test_the_files_are_rfc_4180_utf_8_with_crlf_and_quoted_cells(session, session_factory):
    world = await build(session)

    data = await export_bytes(session_factory, "commitments", coalition="learning-continuity")
    organisations = await export_bytes(session_factory, "organisations")

    assert data.startswith(b"ref,coalition,workstream,")
    assert data.count(b"\r\n") == 8
    # JSON in a cell: compact, keys in the InKindDraft's order, decimals as strings.
    assert (
        b'"[{""category"":""TRAINING"",""description"":""Teacher training seats"",'
        b'""quantity"":""10"",""unit"":""seat"",""fair_value"":""900"",'
        b'""fair_value_currency"":""EUR"",""valuation_method"":""Course fee"",'
        b'""free_of_charge"":true,""free_until"":null,""fair_value_usd"":""972"",'
        b'""usd_rate"":""1.08"",""usd_rate_date"":""2025-06-01"",""usd_rate_source"":""ECB""}]"'
    ) in data
    assert f"{world.mixed.ref},".encode() in data
    assert b'"Mobile operator, ""Brightwave"", with data bundles,\nfor learners."\r\n' in (
        organisations
    )


async def test_a_sum_of_in_kind_values_with_an_unconverted_line_is_left_empty(
    session, session_factory
):
    coalition = await make_coalition(session, slug="mixed-currencies")
    organisation = await make_organisation(session)
    valued = {"fair_value_currency": "USD", "valuation_method": "Quote"}
    await make_commitment(
        session,
        coalition,
        organisation,
        resource_kind=models.ResourceKind.IN_KIND,
        amount=None,
        currency=None,
        in_kind=[
            in_kind_line(fair_value=Decimal("100"), **valued),
            in_kind_line(
                fair_value=Decimal("5000"), fair_value_currency="KES", valuation_method="Quote"
            ),
        ],
    )

    [header, values] = await exported(session_factory, "commitments", coalition="mixed-currencies")

    cells = dict(zip(header, values, strict=True))
    lines = json.loads(cells["in_kind_lines"])
    assert [(item["fair_value"], item["fair_value_usd"]) for item in lines] == [
        ("100", "100"),
        ("5000", None),
    ]
    assert cells["in_kind_value_usd"] == ""


async def test_amounts_a_partner_may_not_see_are_left_empty_by_the_writer(session, session_factory):
    world = await build(session)
    assert world.coalition.id is not None
    partner = Actor(
        name="Kalinga editor",
        role=models.Role.PARTNER_EDITOR,
        organisation_id=world.kalinga.id,
        member_coalition_ids=frozenset({world.coalition.id}),
    )
    # The embargo has ended: the confidential commitment is listed, its amounts are not.
    scope = scope_for(partner, coalition_ids=[world.coalition.id], period_from=None, period_to=None)
    assert dt.datetime.now(dt.UTC) > world.confidential.embargo_until  # type: ignore[operator]

    async with session_factory() as reading:
        connection = await reading.connection()
        chunks = [
            chunk
            async for chunk in csv_exports.commitments_csv(connection, scope, filters.Selection())
        ]

    header, *rows = rows_of(b"".join(chunks))
    by_ref = {values[0]: dict(zip(header, values, strict=True)) for values in rows}
    hidden = by_ref[world.confidential.ref]
    own = by_ref[world.unconverted.ref]
    assert (hidden["amount"], hidden["amount_usd"], hidden["currency"]) == ("", "", "USD")
    assert (own["amount"], by_ref[world.cash.ref]["amount_usd"]) == ("2000000", "10800.54")


@pytest.mark.parametrize("batch", [1, 2, 3])
@pytest.mark.parametrize("name", ["organisations", "commitments", "deliveries"])
async def test_batches_of_any_size_write_the_same_file(session, session_factory, name, batch):
    await build(session)
    whole = await export_bytes(session_factory, name)

    async with session_factory() as reading:
        connection = await reading.connection()
        scope, selection = await prepare(connection, SYSTEM, filters.Filters())
        chunks = [
            chunk
            async for chunk in csv_exports.EXPORTS[name](connection, scope, selection, batch=batch)
        ]

    # A commitment with two in-kind lines spans two rows of SQL: no batch splits it.
    assert b"".join(chunks) == whole
    assert len(chunks) >= 2


async def test_a_title_a_spreadsheet_would_run_is_written_inert(session, session_factory):
    coalition = await make_coalition(session, slug="learning-continuity")
    await make_commitment(
        session, coalition, await make_organisation(session), title='=HYPERLINK("http://x")'
    )

    _, values = await exported(session_factory, "commitments", coalition=coalition.slug)

    assert values[csv_exports.COMMITMENT_COLUMNS.index("title")] == '\'=HYPERLINK("http://x")'
