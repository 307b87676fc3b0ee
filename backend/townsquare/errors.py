"""The domain's exceptions: one root, a subclass per kind of refusal.

Each carries the HTTP status and a message written for the person who will
read it, so the app's single error handler can shape every response.
"""

from __future__ import annotations


class TownsquareError(Exception):
    """Root of every error Townsquare raises on purpose."""

    status = 500
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(TownsquareError):
    """A setting is missing or wrong; the message names it and the fix."""

    code = "bad_config"


class StoreError(TownsquareError):
    """The store cannot be opened or written."""

    status = 503
    code = "store_unavailable"


class InvalidInput(TownsquareError):
    """The request's fields failed validation; ``fields`` maps name to reason."""

    status = 400
    code = "invalid_input"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class NotFound(TownsquareError):
    status = 404
    code = "not_found"


class Closed(TownsquareError):
    """The page exists but no longer takes contributions."""

    status = 409
    code = "closed"


class Forbidden(TownsquareError):
    status = 403
    code = "forbidden"


class BuildError(TownsquareError):
    """The static site could not be built; the message names the source file."""

    code = "build_failed"
