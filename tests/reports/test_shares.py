from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from backend.reports import shares

weights = st.dictionaries(
    st.sampled_from(["BD", "KE", "NG", "TZ", "UG", "11220", "11330"]),
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1e9"), places=4),
    min_size=1,
)


@given(weights)
def test_percentages_sum_to_exactly_100_and_stay_within_a_hundredth(weights):
    percentages = shares.percentages(weights)

    whole = sum(weights.values())
    assert sum(percentages.values()) == Decimal(100)
    for key, weight in weights.items():
        exact = Fraction(weight) * 100 / Fraction(whole)
        assert abs(Fraction(percentages.get(key, Decimal(0))) - exact) < Fraction(1, 100)


def test_tied_remainders_go_to_the_first_key():
    thirds = {"UG": Decimal(1), "KE": Decimal(1), "BD": Decimal(1)}

    assert shares.percentages(thirds) == {
        "BD": Decimal("33.34"),
        "KE": Decimal("33.33"),
        "UG": Decimal("33.33"),
    }


def test_a_share_too_small_to_show_is_left_out():
    assert shares.percentages({"KE": Decimal("1000000"), "UG": Decimal("1")}) == {
        "KE": Decimal("100.00")
    }


def test_an_amount_splits_evenly_rounded_down_to_four_places():
    assert shares.totals([(Decimal("10"), ["KE", "UG", "TZ"]), (Decimal("1"), ["KE"])]) == {
        "KE": Decimal("4.3333"),
        "UG": Decimal("3.3333"),
        "TZ": Decimal("3.3333"),
    }
