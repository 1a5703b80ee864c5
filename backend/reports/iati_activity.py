"""What one IATI activity says, before it is written as XML: the mapping from a coalition (or
one of its workstreams) to IATI 2.03 elements and code lists."""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from backend import models
from backend.reports import shares
from backend.reports.iati_source import Commitment, Delivery, Organisation, Source, Workstream
from backend.reports.scope import FIRM_STAGES

# Code lists (../shared/standards/iati-2.03/codelists/).
ROLE_FUNDING = "1"  # OrganisationRole
ROLE_ACCOUNTABLE = "2"
STATUS_IMPLEMENTATION = "2"  # ActivityStatus
STATUS_CLOSED = "4"
DATE_PLANNED_START = "1"  # ActivityDateType
DATE_ACTUAL_START = "2"
DATE_PLANNED_END = "3"
DESCRIPTION_GENERAL = "1"  # DescriptionType
DESCRIPTION_OBJECTIVES = "2"
INCOMING_FUNDS = "1"  # TransactionType
INCOMING_COMMITMENT = "11"
INCOMING_PLEDGE = "13"
TAG_SDG_GOAL = "2"  # TagVocabulary
TAG_SDG_TARGET = "3"
SECTOR_DAC_5 = "1"  # SectorVocabulary
AID_TYPE_EARMARKING = "2"  # AidTypeVocabulary: EarmarkingCategory


@dataclass(frozen=True)
class Participant:
    role: str
    organisation: Organisation


@dataclass(frozen=True)
class Transaction:
    ref: str
    type: str
    day: dt.date
    amount: Decimal
    currency: str
    value_date: dt.date
    description: str
    provider: Organisation
    receiver: Organisation | None
    earmarking: str | None


@dataclass(frozen=True)
class Activity:
    identifier: str
    reporter: Organisation
    title: str
    # (DescriptionType code, text), general first.
    descriptions: list[tuple[str, str]]
    participants: list[Participant]
    status: str
    # (ActivityDateType code, day)
    dates: list[tuple[str, dt.date]]
    countries: dict[str, Decimal]
    sectors: dict[str, Decimal]
    # (TagVocabulary code, code)
    tags: list[tuple[str, str]]
    transactions: list[Transaction]
    last_updated: dt.datetime


def coalition_activity(source: Source, host: Organisation, *, today: dt.date) -> Activity:
    """The whole coalition as one activity, as of `today` (the file's day)."""
    contributors = _contributors(source.commitments)
    description = source.description or (
        f"Commitments made to {source.name} by its members, reported by its host, {host.name}."
    )
    return _activity(
        source,
        host,
        identifier=f"{host.iati_identifier}-{source.slug}",
        title=source.name,
        descriptions=[(DESCRIPTION_GENERAL, description)],
        closed=source.status is models.CoalitionStatus.CLOSED,
        commitments=source.commitments,
        funders=contributors | set(source.members),
        launched=source.launched_on,
        end=None,
        recorded=source.created_at.date(),
        touched=[source.updated_at],
        today=today,
    )


def workstream_activities(source: Source, host: Organisation, *, today: dt.date) -> list[Activity]:
    """One activity per workstream, and one for the commitments that name none (also when
    the coalition has no workstreams, so a file always holds an activity)."""
    made = [
        _workstream_activity(source, host, workstream, today) for workstream in source.workstreams
    ]
    unassigned = [item for item in source.commitments if item.workstream_id is None]
    if unassigned or not source.workstreams:
        made.append(
            _activity(
                source,
                host,
                identifier=f"{host.iati_identifier}-{source.slug}-general",
                title=f"{source.name}: commitments outside any workstream",
                descriptions=[
                    (
                        DESCRIPTION_GENERAL,
                        f"Commitments to {source.name} that are not part of a workstream.",
                    )
                ],
                closed=source.status is models.CoalitionStatus.CLOSED,
                commitments=unassigned,
                funders=_contributors(unassigned),
                launched=None,
                end=None,
                recorded=source.created_at.date(),
                touched=[source.updated_at],
                today=today,
            )
        )
    return made


def _workstream_activity(
    source: Source, host: Organisation, workstream: Workstream, today: dt.date
) -> Activity:
    commitments = [item for item in source.commitments if item.workstream_id == workstream.id]
    members = {
        organisation_id
        for organisation_id, workstream_ids in source.members.items()
        if workstream.id in workstream_ids
    }
    descriptions = [
        (
            DESCRIPTION_GENERAL,
            workstream.description or f"The {workstream.name} of {source.name}.",
        )
    ]
    if workstream.target_metric and workstream.target_value is not None:
        by = f" by {workstream.target_date.isoformat()}" if workstream.target_date else ""
        target = f"{plain(workstream.target_value)} {workstream.target_metric}{by}."
        descriptions.append((DESCRIPTION_OBJECTIVES, f"Target: {target}"))
    closed = (
        source.status is models.CoalitionStatus.CLOSED
        or workstream.status is models.WorkstreamStatus.CLOSED
    )
    return _activity(
        source,
        host,
        identifier=f"{host.iati_identifier}-{source.slug}-{workstream.id}",
        title=f"{source.name}: {workstream.name}",
        descriptions=descriptions,
        closed=closed,
        commitments=commitments,
        funders=_contributors(commitments) | members,
        launched=None,
        end=(DATE_PLANNED_END, workstream.target_date) if workstream.target_date else None,
        recorded=workstream.created_at.date(),
        touched=[source.updated_at, workstream.created_at],
        today=today,
    )


def _activity(
    source: Source,
    host: Organisation,
    *,
    identifier: str,
    title: str,
    descriptions: list[tuple[str, str]],
    closed: bool,
    commitments: Sequence[Commitment],
    funders: set[int],
    launched: dt.date | None,
    end: tuple[str, dt.date] | None,
    recorded: dt.date,
    touched: list[dt.datetime],
    today: dt.date,
) -> Activity:
    ids = {item.id for item in commitments}
    deliveries = [item for item in source.deliveries if item.commitment_id in ids]
    funding = sorted(
        (source.organisations[organisation_id] for organisation_id in funders),
        key=lambda organisation: (organisation.name.casefold(), organisation.id),
    )
    participants = [Participant(ROLE_FUNDING, organisation) for organisation in funding]
    participants.append(Participant(ROLE_ACCOUNTABLE, host))
    dates = [_start(launched, commitments, deliveries, recorded, today)]
    if end is not None:
        dates.append(end)
    touched = touched + [item.updated_at for item in commitments]
    touched += [item.updated_at for item in deliveries]
    return Activity(
        identifier=identifier,
        reporter=host,
        title=title,
        descriptions=descriptions,
        participants=participants,
        status=STATUS_CLOSED if closed else STATUS_IMPLEMENTATION,
        dates=dates,
        countries=_weighted(commitments, lambda item: item.countries),
        sectors=_weighted(commitments, lambda item: item.sectors),
        tags=_tags(source.sdg_goals, commitments),
        transactions=_transactions(source, host, commitments, deliveries, today),
        last_updated=max(touched),
    )


def _contributors(commitments: Sequence[Commitment]) -> set[int]:
    return {item.organisation_id for item in commitments}


def _start(
    launched: dt.date | None,
    commitments: Sequence[Commitment],
    deliveries: Sequence[Delivery],
    recorded: dt.date,
    today: dt.date,
) -> tuple[str, dt.date]:
    """The launch day; without one, the activity had actually started by its first
    commitment or delivery; with neither, the day it was recorded is its planned start. A
    start still to come is a planned one."""
    days = [_dated(item, today) for item in commitments]
    days += [item.delivered_on for item in deliveries]
    day = launched or min(days, default=None)
    if day is None:
        return DATE_PLANNED_START, recorded
    return (DATE_ACTUAL_START if day <= today else DATE_PLANNED_START), day


def _dated(commitment: Commitment, today: dt.date) -> dt.date:
    """A commitment's transaction date: the day its money is valued at, as every hub report
    dates it, unless that is still to come (IATI transactions are never dated in the
    future): then the day it was recorded, when it was made."""
    return commitment.valued_on if commitment.valued_on <= today else commitment.recorded_on


def _weighted(
    commitments: Sequence[Commitment], entries: Callable[[Commitment], list[str]]
) -> dict[str, Decimal]:
    """Percentages over the commitments' lists: each commitment's cash in USD split evenly
    over its entries. Commitments without a USD amount (in-kind only, unconverted) weigh
    nothing beside converted ones; when none of those with entries has one, every such
    commitment weighs the same."""
    listed = [(item, entries(item)) for item in commitments if entries(item)]
    converted = [
        (item.amount_usd, codes)
        for item, codes in listed
        if item.amount_usd and item.amount_usd > 0
    ]
    weighted = converted or [(Decimal(1), codes) for _item, codes in listed]
    return shares.percentages(shares.totals(weighted))


def _target_order(target: str) -> tuple[int, int, str]:
    goal, _, part = target.partition(".")
    return (int(goal), 0, f"{int(part):04d}") if part.isdigit() else (int(goal), 1, part)


def _tags(goals: Sequence[str], commitments: Sequence[Commitment]) -> list[tuple[str, str]]:
    """The coalition's SDG goals (in its order), then the goals of its commitments' targets
    not named already; then the targets."""
    targets = sorted(
        {target for item in commitments for target in item.sdg_targets}, key=_target_order
    )
    all_goals = list(dict.fromkeys([*goals, *(target.partition(".")[0] for target in targets)]))
    return [(TAG_SDG_GOAL, goal) for goal in all_goals] + [
        (TAG_SDG_TARGET, target) for target in targets
    ]


def _transactions(
    source: Source,
    host: Organisation,
    commitments: Sequence[Commitment],
    deliveries: Sequence[Delivery],
    today: dt.date,
) -> list[Transaction]:
    """Pledges as incoming pledges, firm commitments as incoming commitments and cash
    deliveries as incoming funds, each in its own currency. In-kind help has no IATI
    transaction type and stays out."""
    made: list[Transaction] = []
    by_id = {item.id: item for item in commitments}
    for item in commitments:
        if item.amount is None or item.currency is None:
            continue
        kind = INCOMING_COMMITMENT if item.stage in FIRM_STAGES else INCOMING_PLEDGE
        made.append(
            Transaction(
                ref=item.ref,
                type=kind,
                day=_dated(item, today),
                amount=item.amount,
                currency=item.currency,
                value_date=item.usd_rate_date or item.valued_on,
                description=item.title,
                provider=source.organisations[item.organisation_id],
                receiver=host,
                earmarking=item.earmarking,
            )
        )
    for delivery in deliveries:
        commitment = by_id[delivery.commitment_id]
        receiver = (
            source.organisations[delivery.receiving_organisation_id]
            if delivery.receiving_organisation_id is not None
            else host
        )
        made.append(
            Transaction(
                ref=f"{commitment.ref}-{delivery.key or f'delivery-{delivery.id}'}",
                type=INCOMING_FUNDS,
                day=delivery.delivered_on,
                amount=delivery.amount,
                currency=delivery.currency,
                value_date=delivery.usd_rate_date or delivery.delivered_on,
                description=f"Delivery against {commitment.ref}: {commitment.title}",
                provider=source.organisations[commitment.organisation_id],
                receiver=receiver,
                earmarking=commitment.earmarking,
            )
        )
    return sorted(made, key=lambda item: (item.day, int(item.type), item.ref))


def plain(amount: Decimal) -> str:
    """A decimal as plain digits (xsd:decimal has no exponent), trailing zeros dropped."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
