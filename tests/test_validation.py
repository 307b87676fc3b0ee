"""The comment validator: clean fields out, every reason for refusal reported."""

from __future__ import annotations

from typing import Any

import pytest

from townsquare.comments.validation import Limits, Submission, parse, strip_controls
from townsquare.errors import InvalidInput

LIMITS = Limits()


def ok(**fields: Any) -> Submission:
    return parse({"author": "Resident", "body": "Comment", **fields}, LIMITS)


def refused(data: dict[str, Any], limits: Limits = LIMITS) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        parse(data, limits)
    assert caught.value.message == "There is a problem with your comment."
    assert caught.value.status == 400
    return caught.value.fields


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Mary Ann  ", "Mary Ann"),
        ("\tTabbed\t", "Tabbed"),
        ("Иван Петров", "Иван Петров"),
        ("李小龍", "李小龍"),
        ("🦜 Parrot Fan", "🦜 Parrot Fan"),
        ("O'Brien-Smith", "O'Brien-Smith"),
        ("\u00a0Nbsp\u00a0", "Nbsp"),
    ],
)
def test_names_are_trimmed_and_kept(raw: str, clean: str) -> None:
    assert ok(author=raw).author == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Case\x00Tester\x07", "CaseTester"),
        ("Line\nBreak", "LineBreak"),
        ("Tab\tInside", "TabInside"),
        ("Esc\x1b[31mape", "Esc[31mape"),
        ("Del\x7fete", "Delete"),
        ("C1\x85\x9bcontrols", "C1controls"),
        ("Lone\ud800surrogate", "Lonesurrogate"),
    ],
)
def test_control_characters_leave_names(raw: str, clean: str) -> None:
    assert ok(author=raw).author == clean


def test_body_keeps_newlines_and_tabs_but_not_other_controls() -> None:
    body = ok(body="line one\x00\x1b[31m red\nline\ttwo\x07").body

    assert body == "line one[31m red\nline\ttwo"


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_body_newlines_are_normalised(newline: str) -> None:
    body = ok(body=f"first{newline}second{newline}{newline}third").body

    assert body == "first\nsecond\n\nthird"


def test_body_is_trimmed_at_the_ends_only() -> None:
    assert ok(body="\n\n  indented\n  text  \n\n").body == "indented\n  text"


def test_lone_surrogates_leave_the_body() -> None:
    body = ok(body="keep \udfff this").body

    assert body == "keep  this"
    body.encode("utf-8")


@pytest.mark.parametrize("author", ["", "   ", "\x00\x07", "\ud800", None])
def test_name_is_required(author: Any) -> None:
    assert refused({"author": author, "body": "Text"}) == {"author": "Enter your name"}


@pytest.mark.parametrize("body", ["", "\n\n\t ", "\x00", None])
def test_body_is_required(body: Any) -> None:
    assert refused({"author": "A", "body": body}) == {"body": "Write your comment"}


def test_every_problem_is_reported_at_once() -> None:
    fields = refused({"author": "", "body": "", "email": "nope", "parent": "x"})

    assert set(fields) == {"author", "body", "email", "parent"}
    assert all(message.strip() for message in fields.values())


def test_name_length_limit() -> None:
    assert ok(author="n" * 80).author == "n" * 80

    fields = refused({"author": "n" * 81, "body": "B"})

    assert fields == {"author": "Your name must be 80 characters or fewer"}


def test_body_length_limit_names_both_numbers() -> None:
    assert len(ok(body="b" * 5000).body) == 5000

    fields = refused({"author": "A", "body": "b" * 12345})

    assert (
        fields["body"]
        == "Your comment must be 5,000 characters or fewer; it has 12,345"
    )


def test_limits_are_measured_after_cleaning() -> None:
    padded = "  " + "n" * 80 + "\x00" * 10 + "  "

    assert ok(author=padded).author == "n" * 80


def test_custom_limits() -> None:
    limits = Limits(name=5, body=10)

    fields = refused({"author": "Long name", "body": "Eleven long"}, limits)

    assert set(fields) == {"author", "body"}
    assert "5 characters" in fields["author"]
    assert "10 characters" in fields["body"]


@pytest.mark.parametrize(
    "email", ["resident@example.org", "  resident@example.org  ", "a.b+c@mail.example"]
)
def test_good_emails_are_kept(email: str) -> None:
    assert ok(email=email).email == email.strip()


def test_email_is_optional() -> None:
    assert ok().email == ""
    assert ok(email="").email == ""
    assert ok(email=None).email == ""


@pytest.mark.parametrize(
    "email",
    [
        "nope",
        "a@b",
        "two@@example.org",
        "sp ace@example.org",
        "a@" + "x" * 260 + ".org",
    ],
)
def test_bad_emails_are_refused(email: str) -> None:
    fields = refused({"author": "A", "body": "B", "email": email})

    assert "name@example.org" in fields["email"]


@pytest.mark.parametrize(
    ("raw", "parent"), [(None, None), ("", None), (3, 3), ("12", 12)]
)
def test_parent_is_an_id_or_nothing(raw: Any, parent: int | None) -> None:
    assert ok(parent=raw).parent == parent


@pytest.mark.parametrize(
    "raw",
    [0, -4, "0", "-4", "abc", "١٢", "１２", 1.0, 2.5, True, False, [1], {"id": 1}],
)
def test_bad_parents_are_refused(raw: Any) -> None:
    fields = refused({"author": "A", "body": "B", "parent": raw})

    assert fields == {"parent": "The comment you are replying to is not valid"}


@pytest.mark.parametrize("name", ["author", "body", "email"])
@pytest.mark.parametrize("value", [42, 4.2, True, ["text"], {"text": "x"}])
def test_fields_must_be_text(name: str, value: Any) -> None:
    data = {"author": "A", "body": "B", name: value}

    fields = refused(data)

    assert fields == {name: f"The {name} must be text"}


def test_server_owned_fields_are_ignored() -> None:
    submission = parse(
        {
            "author": "A",
            "body": "B",
            "id": "fixed-id",
            "created": "1999-01-01T00:00:00Z",
            "status": "approved",
            "approved": True,
            "official": True,
            "votes": 999,
            "html": "<script>x</script>",
            "client": "1.2.3.4",
        },
        LIMITS,
    )

    assert submission == Submission(author="A", body="B", email="", parent=None)


def test_strip_controls_keeps_only_what_it_is_told() -> None:
    assert strip_controls("a\nb\tc\x00d") == "abcd"
    assert strip_controls("a\nb\tc\x00d", multiline=True) == "a\nb\tcd"
    assert strip_controls("x\u202elaiciffo\u202c y\u2067z\u2069") == "xlaiciffo yz"
    assert strip_controls("zero\u200bwidth") == "zero\u200bwidth"


@pytest.mark.parametrize(
    "name",
    ["\u3164", "\u2800\u2800", "\u0301\u0301", "\u200b\u200d", "\u202e\u202c"],
    ids=["hangul-filler", "blank-braille", "lone-marks", "zero-width", "bidi-only"],
)
def test_names_that_look_empty_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse({"author": name, "body": "Hello"}, Limits())
    assert caught.value.fields == {"author": "Enter your name"}
