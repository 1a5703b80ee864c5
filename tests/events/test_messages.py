from decimal import Decimal

import pytest

from events import messages


def test_figures_have_one_spelling_whatever_their_exponent():
    one = messages.InKindSummary(
        category="DEVICES", quantity=Decimal("5000.0000"), unit="device", description="Tablets"
    )
    other = messages.InKindSummary(
        category="DEVICES", quantity=Decimal("5E+3"), unit="device", description="Tablets"
    )

    assert one.model_dump(mode="json")["quantity"] == "5000"
    assert other.model_dump(mode="json")["quantity"] == "5000"


def test_every_event_type_has_a_catalogue_entry():
    assert set(messages.CATALOGUE) == set(messages.EventType)


def test_a_payload_of_the_wrong_kind_is_refused():
    activity = messages.ActivityMessage(
        id=1, kind="EVENT", title="Launch", occurred_at="2026-01-01T00:00:00Z"
    )

    with pytest.raises(TypeError, match=r"commitment\.pledged carries CommitmentMessage"):
        messages.check(messages.EventType.COMMITMENT_PLEDGED, activity)
