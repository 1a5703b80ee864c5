"""What the demo will create, drawn from a seeded random generator.

The same scale gives the same records (dates are counted back from the seeding day, so
deliveries are never in the future and embargoes always are). Nothing here touches the
database: `seeding.py` feeds the plan through the services.
"""

import datetime as dt
import random
from decimal import Decimal

from backend import models
from backend.demo import catalogue, pledges, tranches
from backend.demo.catalogue import ARTS, LEARNING
from backend.demo.records import (
    Plan,
    PlannedActivity,
    PlannedMembership,
    PlannedOrganisation,
    PlannedRate,
)
from backend.services import organisations

SEED = 20_261_125


def build(*, scale: int, today: dt.date, deliveries_per_commitment: float | None = None) -> Plan:
    """The demo at `scale`; with `deliveries_per_commitment`, tranches are split until
    there are at least that many deliveries per commitment on average (the same
    commitments and activities, the same amounts delivered, in more deliveries)."""
    rng = random.Random(SEED)
    planned = _organisations(rng, scale)
    memberships = _memberships(planned, today)
    rates = _rates(rng, today)
    commitments = pledges.plan(rng, scale, today, planned, memberships)
    if deliveries_per_commitment is not None:
        # A generator of its own, so the density changes nothing else.
        tranches.densify(random.Random(SEED + 1), commitments, deliveries_per_commitment, today)
    tranches.co_report(rng, commitments)
    return Plan(
        today=today,
        rates=rates,
        organisations=[organisation for organisation, _ in planned],
        memberships=memberships,
        commitments=commitments,
        activities=_activities(rng, scale, today, memberships),
    )


def _rates(rng: random.Random, today: dt.date) -> list[PlannedRate]:
    rates = []
    for months_back in range(catalogue.RATE_MONTHS):
        year, month = divmod(today.year * 12 + today.month - 1 - months_back, 12)
        day = dt.date(year, month + 1, 1)
        for currency, usd in catalogue.USD_RATES.items():
            wobble = Decimal(str(round(rng.uniform(0.97, 1.03), 4)))
            rates.append(PlannedRate(currency, day, (usd * wobble).quantize(Decimal("1e-8"))))
    return rates


def _organisations(
    rng: random.Random, scale: int
) -> list[tuple[PlannedOrganisation, catalogue.OrganisationFact]]:
    """The catalogue once, then numbered copies of it for every further unit of scale."""
    planned = []
    for copy in range(1, scale + 1):
        for fact in catalogue.ORGANISATIONS:
            suffix = "" if copy == 1 else f" {copy}"
            contact = f"{rng.choice(catalogue.FIRST_NAMES)} {rng.choice(catalogue.LAST_NAMES)}"
            key = fact.acronym if copy == 1 else f"{fact.acronym}-{copy}"
            draft = organisations.OrganisationDraft(
                name=fact.name + suffix,
                acronym=key,
                organisation_type=fact.organisation_type,
                country=fact.country,
                iati_identifier=(
                    None if fact.iati_identifier is None else fact.iati_identifier + suffix.strip()
                ),
                hub_category=fact.hub_category,
                website=f"https://example.org/{key.lower()}",
                description=catalogue.FICTIONAL,
            )
            planned.append((PlannedOrganisation(key, draft, contact), fact))
    return planned


def _memberships(
    planned: list[tuple[PlannedOrganisation, catalogue.OrganisationFact]], today: dt.date
) -> list[PlannedMembership]:
    status, role = models.MembershipStatus, models.MembershipRole
    launched = {fact.slug: fact.launched_days_ago for fact in catalogue.COALITIONS}
    memberships = []
    for index, (organisation, fact) in enumerate(planned):
        acronym = fact.acronym
        joined = today - dt.timedelta(days=launched[LEARNING] - index % 200)
        if fact.learning:
            lead = catalogue.LEADS.get(acronym)
            memberships.append(
                PlannedMembership(
                    LEARNING,
                    organisation.key,
                    status.APPLIED
                    if acronym in catalogue.APPLIED
                    else status.SUSPENDED
                    if acronym in catalogue.SUSPENDED
                    else status.WITHDRAWN
                    if acronym in catalogue.WITHDRAWN
                    else status.ACTIVE,
                    role.WORKSTREAM_LEAD
                    if lead
                    else role.CHAMPION
                    if acronym in catalogue.CHAMPIONS
                    else role.OBSERVER
                    if acronym in catalogue.OBSERVERS
                    else role.MEMBER,
                    [lead] if lead else [],
                    None if acronym in catalogue.APPLIED else joined,
                )
            )
        if fact.arts:
            lead = catalogue.ARTS_LEADS.get(acronym)
            applied = acronym in catalogue.ARTS_APPLIED
            memberships.append(
                PlannedMembership(
                    ARTS,
                    organisation.key,
                    status.APPLIED if applied else status.ACTIVE,
                    role.WORKSTREAM_LEAD
                    if lead
                    else role.CHAMPION
                    if acronym in catalogue.ARTS_CHAMPIONS
                    else role.MEMBER,
                    [lead] if lead else [],
                    None if applied else today - dt.timedelta(days=launched[ARTS] - index % 100),
                )
            )
    return memberships


def _activities(
    rng: random.Random, scale: int, today: dt.date, memberships: list[PlannedMembership]
) -> list[PlannedActivity]:
    names = {fact.slug: fact.name for fact in catalogue.COALITIONS}
    launched = {fact.slug: fact.launched_days_ago for fact in catalogue.COALITIONS}
    activities: list[PlannedActivity] = []
    for coalition, mix in catalogue.ACTIVITY_MIX.items():
        members = [
            membership.organisation
            for membership in memberships
            if membership.coalition == coalition
            and membership.status is models.MembershipStatus.ACTIVE
        ]
        workstreams = [w.name for w in catalogue.WORKSTREAMS if w.coalition == coalition]
        kinds = [kind for kind, count in mix.items() for _ in range(count * scale)]
        embargoes = scale if coalition == LEARNING else 0
        for kind in kinds:
            code = rng.choice(sorted(catalogue.RECIPIENTS))
            country, city = catalogue.RECIPIENTS[code]
            workstream = rng.choice(workstreams)
            template = rng.choice(catalogue.ACTIVITY_TITLES[coalition][kind])
            title = template.format(
                city=city,
                country=country,
                workstream=workstream,
                theme=catalogue.THEMES[workstream],
            )
            publisher = rng.choice(members) if rng.random() < 0.4 else None
            involved = rng.sample(members, rng.randint(0, 3))
            upcoming = kind in _UPCOMING and rng.random() < 0.15
            days = rng.randint(5, 60) if upcoming else -rng.randint(1, launched[coalition])
            occurred_at = dt.datetime.combine(
                today + dt.timedelta(days=days), dt.time(rng.randint(8, 17)), tzinfo=dt.UTC
            )
            embargo_until = None
            if kind is models.ActivityKind.REPORT and embargoes > 0:
                embargoes -= 1
                at = today + dt.timedelta(days=rng.randint(10, 40))
                embargo_until = dt.datetime.combine(at, dt.time(9), tzinfo=dt.UTC)
            activities.append(
                PlannedActivity(
                    coalition=coalition,
                    organisation=publisher,
                    involved=involved,
                    workstream=workstream
                    if "{workstream}" in template or rng.random() < 0.5
                    else None,
                    kind=kind,
                    title=title,
                    summary=f"A fictional {kind.value.lower()} of the {names[coalition]}.",
                    occurred_at=occurred_at,
                    countries=[code] if "{c" in template else [],
                    links=(
                        [f"https://example.org/{coalition}/{kind.value.lower()}/{len(activities)}"]
                        if rng.random() < 0.7
                        else []
                    ),
                    visibility=models.Visibility.MEMBERS
                    if rng.random() < 0.15
                    else models.Visibility.PUBLIC,
                    embargo_until=embargo_until,
                )
            )
    return activities


_UPCOMING = {models.ActivityKind.EVENT, models.ActivityKind.DEBATE, models.ActivityKind.TRAINING}
