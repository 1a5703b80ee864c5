from tests.factories import gid, make_member_editor

PUBLISH = """
mutation ($input: PublishActivityInput!) {
  publishActivity(input: $input) { ... on Activity { occurredAt } }
}
"""
PLEDGE = """
mutation ($input: PledgeCommitmentInput!) {
  pledgeCommitment(input: $input) {
    ... on Commitment { amount inKind { quantity } }
  }
}
"""


async def test_instants_are_answered_in_utc_whatever_offset_they_came_with(api, session):
    coalition, token = await make_member_editor(session)
    input = {
        "coalitionId": gid(coalition),
        "kind": "EVENT",
        "title": "Launch",
        "occurredAt": "2026-03-01T10:00:00+01:00",
    }

    written = await api(PUBLISH, {"input": input}, token=token)
    read = await api("{ activities { edges { node { occurredAt } } } }")

    assert written == {"publishActivity": {"occurredAt": "2026-03-01T09:00:00+00:00"}}
    assert read["activities"]["edges"] == [{"node": {"occurredAt": "2026-03-01T09:00:00+00:00"}}]


async def test_figures_in_exponent_form_come_back_written_out(api, session):
    coalition, token = await make_member_editor(session)
    input = {
        "coalitionId": gid(coalition),
        "title": "Tablets",
        "resourceKind": "MIXED",
        "amount": "1E3",
        "currency": "USD",
        "inKind": [
            {"category": "DEVICES", "description": "Tablets", "quantity": "2E3", "unit": "device"}
        ],
    }

    written = await api(PLEDGE, {"input": input}, token=token)

    assert written == {"pledgeCommitment": {"amount": "1000.00", "inKind": [{"quantity": "2000"}]}}
