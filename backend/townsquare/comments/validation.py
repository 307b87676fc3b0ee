"""Check a comment submission and collect every reason to refuse it.

Only the fields named here are read; anything else a client sends (ids,
timestamps, status) is ignored, because the server owns those.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import DEFAULTS
from ..errors import InvalidInput
from .rendering import is_visible

# Control characters (category Cc) break terminals, logs and feeds; lone
# surrogates cannot be encoded as UTF-8. Bidirectional overrides and isolates
# can make a name read backwards or spill into the text around it; ordinary
# right-to-left text needs none of them. Bodies keep newline and tab.
_INVISIBLE_TRICKS = "\ud800-\udfff\u202a-\u202e\u2066-\u2069"
_UNWANTED_IN_NAME = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE_TRICKS}]")
_UNWANTED_IN_BODY = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE_TRICKS}]")
PROBLEM = "There is a problem with your comment."
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Submission:
    author: str
    body: str
    email: str
    parent: int | None


@dataclass(frozen=True)
class Limits:
    name: int = DEFAULTS["NAME_MAX_LENGTH"]
    body: int = DEFAULTS["COMMENT_MAX_LENGTH"]
    # The longest address the email standards allow.
    email: int = 254


def strip_controls(text: str, *, multiline: bool = False) -> str:
    """Remove control and direction-override characters (see above)."""
    pattern = _UNWANTED_IN_BODY if multiline else _UNWANTED_IN_NAME
    return pattern.sub("", text)


def parse(data: Mapping[str, Any], limits: Limits) -> Submission:
    """Return a clean :class:`Submission` or raise :class:`InvalidInput`."""
    submission, errors = clean(data, limits)
    if errors:
        raise InvalidInput(PROBLEM, errors)
    return submission


def clean(data: Mapping[str, Any], limits: Limits) -> tuple[Submission, dict[str, str]]:
    """Clean every field and collect every reason to refuse, without raising.

    Callers that check more (the page, the parent) add their reasons to the
    same dictionary, so a member sees all problems at once.
    """
    errors: dict[str, str] = {}
    author = _text(data, "author", errors, "Enter your name")
    body = _text(data, "body", errors, "Write your comment", multiline=True)
    email = _text(data, "email", errors, "", required=False)
    parent = _parent(data.get("parent"), errors)

    if author and len(author) > limits.name:
        errors["author"] = f"Your name must be {limits.name} characters or fewer"
    if body and len(body) > limits.body:
        errors["body"] = (
            f"Your comment must be {limits.body:,} characters or fewer; "
            f"it has {len(body):,}"
        )
    if email and (len(email) > limits.email or not _EMAIL.match(email)):
        errors["email"] = (
            "Enter an email address like name@example.org, or leave it empty"
        )
    return Submission(author=author, body=body, email=email, parent=parent), errors


def parse_id(value: str) -> int | None:
    """A record id from text: up to 12 ASCII digits, else None."""
    if value.isascii() and value.isdigit() and len(value) <= 12:
        return int(value)
    return None


def _text(
    data: Mapping[str, Any],
    name: str,
    errors: dict[str, str],
    missing: str,
    *,
    multiline: bool = False,
    required: bool = True,
) -> str:
    value = data.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = f"The {name} must be text"
        return ""
    if multiline:
        value = strip_controls(
            value.replace("\r\n", "\n").replace("\r", "\n"), multiline=True
        )
        value = value.strip()
    else:
        value = strip_controls(value).strip()
    if required and not is_visible(value):
        errors[name] = missing
    return value


def _parent(value: Any, errors: dict[str, str]) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = parse_id(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        errors["parent"] = "The comment you are replying to is not valid"
        return None
    return value
