import datetime as dt
from decimal import Decimal

import pytest

from backend.errors import FieldIssue, InvalidInput
from backend.services.validation import LONG_TEXT, SHORT_TEXT, Checks


def issues(check):
    """The (field, code) pairs one check records on a fresh Checks."""
    checks = Checks()
    check(checks)
    return [(issue.field, issue.code) for issue in checks.issues]


@pytest.mark.parametrize(
    ("value", "required", "expected"),
    [
        ("Global Education", True, []),
        (None, False, []),
        ("", False, []),
        (None, True, [("name", "REQUIRED")]),
        ("", True, [("name", "REQUIRED")]),
        (" \t\n", True, [("name", "REQUIRED")]),
        ("x" * SHORT_TEXT, True, []),
        ("x" * (SHORT_TEXT + 1), True, [("name", "TOO_LONG")]),
        ("x" * (SHORT_TEXT + 1), False, [("name", "TOO_LONG")]),
    ],
)
def test_text(value, required, expected):
    found = issues(lambda checks: checks.text("name", value, required=required))

    assert found == expected


def test_text_with_its_own_limit():
    assert issues(lambda checks: checks.text("acronym", "x" * 30, limit=30)) == []
    assert issues(lambda checks: checks.text("acronym", "x" * 31, limit=30)) == [
        ("acronym", "TOO_LONG")
    ]
    assert issues(lambda checks: checks.text("description", "x" * LONG_TEXT, limit=LONG_TEXT)) == []


def test_required():
    assert issues(lambda checks: checks.required("kind", None)) == [("kind", "REQUIRED")]
    assert issues(lambda checks: checks.required("kind", "")) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        (Decimal("0.0001"), []),
        (Decimal("12.3456"), []),
        # Trailing zeros add no precision.
        (Decimal("1.00000"), []),
        (Decimal("12.345600"), []),
        (Decimal("99999999999999.9999"), []),
        (Decimal("0"), [("amount", "NOT_POSITIVE")]),
        (Decimal("-0"), [("amount", "NOT_POSITIVE")]),
        (Decimal("-5"), [("amount", "NOT_POSITIVE")]),
        (Decimal("NaN"), [("amount", "NOT_POSITIVE")]),
        (Decimal("sNaN"), [("amount", "NOT_POSITIVE")]),
        (Decimal("Infinity"), [("amount", "NOT_POSITIVE")]),
        (Decimal("0.00001"), [("amount", "TOO_PRECISE")]),
        (Decimal("12.34567"), [("amount", "TOO_PRECISE")]),
        (Decimal("1E+14"), [("amount", "BAD_RANGE")]),
        (Decimal("100000000000000"), [("amount", "BAD_RANGE")]),
        # Beyond the decimal context's exponent limits: no rounding, no Overflow.
        (Decimal("1E-999999999"), [("amount", "TOO_PRECISE")]),
        (Decimal("1E+999999999"), [("amount", "BAD_RANGE")]),
    ],
)
def test_positive_decimals(value, expected):
    found = issues(lambda checks: checks.positive("amount", value))

    assert found == expected


def test_positive_with_fewer_places_allows_larger_values():
    def positive(value):
        return issues(lambda checks: checks.positive("rate", value, places=2))

    assert positive(Decimal("0.01")) == []
    assert positive(Decimal("0.001")) == [("rate", "TOO_PRECISE")]
    assert positive(Decimal("9999999999999999.99")) == []
    assert positive(Decimal("1E+16")) == [("rate", "BAD_RANGE")]


def test_non_negative():
    assert issues(lambda checks: checks.non_negative("beneficiaries", None)) == []
    assert issues(lambda checks: checks.non_negative("beneficiaries", 0)) == []
    assert issues(lambda checks: checks.non_negative("beneficiaries", -1)) == [
        ("beneficiaries", "BAD_RANGE")
    ]


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        ("currency", "USD", "XYZ"),
        ("country", "KE", "XX"),
        ("organisation_type", "70", "99"),
        ("earmarking", "4", "5"),
    ],
)
def test_single_codes(check, good, bad):
    assert issues(lambda checks: getattr(checks, check)("code", None)) == []
    assert issues(lambda checks: getattr(checks, check)("code", good)) == []
    assert issues(lambda checks: getattr(checks, check)("code", bad)) == [("code", "UNKNOWN_CODE")]


def test_codes_are_case_sensitive():
    assert issues(lambda checks: checks.currency("currency", "usd")) == [
        ("currency", "UNKNOWN_CODE")
    ]
    assert issues(lambda checks: checks.country("country", "ke")) == [("country", "UNKNOWN_CODE")]


@pytest.mark.parametrize(
    ("check", "values", "expected"),
    [
        (
            "countries",
            ["KE", "XX", "UG", "ZZ"],
            [("list.1", "UNKNOWN_CODE"), ("list.3", "UNKNOWN_CODE")],
        ),
        ("countries", [], []),
        (
            "sdg_goals",
            ["1", "17", "18", "0"],
            [("list.2", "UNKNOWN_CODE"), ("list.3", "UNKNOWN_CODE")],
        ),
        ("sdg_targets", ["4.1", "4.a", "4.99"], [("list.2", "UNKNOWN_CODE")]),
    ],
)
def test_code_lists_name_each_refused_position(check, values, expected):
    found = issues(lambda checks: getattr(checks, check)("list", values))

    assert found == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("https://www.unesco.org", []),
        ("http://example.org/report.pdf", []),
        ("ftp://files.example.org", [("website", "BAD_FORMAT")]),
        ("www.unesco.org", [("website", "BAD_FORMAT")]),
        ("javascript:alert(1)", [("website", "BAD_FORMAT")]),
        ("HTTPS://EXAMPLE.ORG", [("website", "BAD_FORMAT")]),
        ("https://example.org/" + "x" * 480, []),
        ("https://example.org/" + "x" * 481, [("website", "TOO_LONG")]),
    ],
)
def test_url(value, expected):
    found = issues(lambda checks: checks.url("website", value))

    assert found == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (dt.date(2024, 5, 1), dt.date(2024, 4, 30), [("end_date", "BAD_RANGE")]),
        (dt.date(2024, 5, 1), dt.date(2024, 5, 1), []),
        (dt.date(2024, 5, 1), dt.date(2024, 5, 2), []),
        (None, dt.date(2024, 5, 2), []),
        (dt.date(2024, 5, 1), None, []),
    ],
)
def test_date_order(start, end, expected):
    found = issues(
        lambda checks: checks.date_order("end_date", start, end, start_name="start_date")
    )

    assert found == expected


def test_done_raises_every_issue_in_the_order_found():
    checks = Checks()
    checks.text("title", None, required=True)
    checks.country("countries.0", "XX")
    checks.positive("amount", Decimal("-1"))

    with pytest.raises(InvalidInput) as raised:
        checks.done()

    assert raised.value.issues == [
        FieldIssue("title", "REQUIRED", "This field is required."),
        FieldIssue("countries.0", "UNKNOWN_CODE", "'XX' is not an ISO 3166-1 alpha-2 country."),
        FieldIssue("amount", "NOT_POSITIVE", "Must be greater than zero."),
    ]
    assert raised.value.code == "INVALID_INPUT"
    assert raised.value.message == "Invalid input: title, countries.0, amount."


def test_done_passes_when_nothing_was_found():
    checks = Checks()
    checks.text("title", "Laptops", required=True)
    checks.currency("currency", "EUR")

    checks.done()

    assert checks.issues == []


def test_fail_records_a_custom_issue():
    checks = Checks()

    checks.fail("slug", "BAD_FORMAT", "Lower-case letters only.")

    assert checks.issues == [FieldIssue("slug", "BAD_FORMAT", "Lower-case letters only.")]
