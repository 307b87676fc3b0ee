"""Settings: defaults here, then a TOML file, then ``TOWNSQUARE_*`` variables.

Every setting has a default in :data:`DEFAULTS`, so the product runs with no
configuration at all. Values are validated once, when the app or a command
starts; unknown keys are logged as warnings rather than silently ignored.
"""

from __future__ import annotations

import copy
import logging
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many

from .errors import ConfigError

logger = logging.getLogger(__name__)

ENV_PREFIX = "TOWNSQUARE_"
CONFIG_FILE_ENV = "TOWNSQUARE_CONFIG"
DEFAULT_CONFIG_FILE = "townsquare.toml"

DEFAULTS: dict[str, Any] = {
    # Where the private store lives (comments with emails, addresses).
    "DATA_DIR": "data",
    # The Pelican project: pelicanconf.py, content/, theme/, data/.
    "SITE_DIR": "site",
    # Where the static site is built.
    "OUTPUT_DIR": "output",
    # Where publish exports public data; empty means <SITE_DIR>/data.
    "PUBLIC_DIR": "",
    # "post": comments are published on arrival; "pre": held as pending.
    "MODERATION": "post",
    # flask-limiter syntax; applies to every write, per client address.
    "RATE_LIMIT_WRITES": "10 per minute;200 per day",
    # How many reverse proxies in front of the backend set X-Forwarded-For.
    "PROXY_HOPS": 0,
    # Public address of the static site, e.g. https://talk.havenford.example
    "SITE_URL": "",
    # Other origins allowed to write (and read with CORS).
    "ALLOWED_ORIGINS": [],
    "MAX_REQUEST_BYTES": 64 * 1024,
    "MAX_FORM_FIELDS": 50,
    "COMMENT_MAX_LENGTH": 5000,
    "NAME_MAX_LENGTH": 80,
    # Comments per storage segment file: bounds the cost of one write.
    "SEGMENT_SIZE": 64,
    # Megabytes of store files each process keeps parsed in memory.
    "CACHE_MB": 32,
    # Quiet time before the demo re-publishes after a contribution.
    "REPUBLISH_DELAY": 1.0,
}

_MODERATION_MODES = ("post", "pre")
_KINDS = {
    str: "text",
    int: "a whole number",
    float: "a number",
    list: "a list",
}


def load(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return validated settings from defaults, file, environment, overrides."""
    environ = os.environ if environ is None else environ
    settings = copy.deepcopy(DEFAULTS)
    settings.update(_from_file(environ))
    settings.update(_from_environ(environ))
    settings.update(overrides or {})
    return validate(settings)


def _from_file(environ: Mapping[str, str]) -> dict[str, Any]:
    path = Path(environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))
    if not path.exists():
        if CONFIG_FILE_ENV in environ:
            raise ConfigError(
                f"Config file {path} does not exist: fix {CONFIG_FILE_ENV}."
            )
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}") from exc
    logger.info("Read settings from %s", path)
    return {key.upper(): value for key, value in raw.items()}


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_FILE_ENV:
            continue
        key = name[len(ENV_PREFIX) :]
        default = DEFAULTS.get(key)
        found[key] = _parse_env_value(name, raw, default)
    return found


def _parse_env_value(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number.") from exc
    return raw


def validate(settings: dict[str, Any]) -> dict[str, Any]:
    """Check types and values; raise :class:`ConfigError` saying what to fix."""
    for key in sorted(set(settings) - set(DEFAULTS)):
        if key.isupper() and not key.startswith(("TESTING", "SECRET")):
            logger.warning("Unknown setting %s is ignored.", key)
    for key, default in DEFAULTS.items():
        value = settings[key]
        if isinstance(default, float) and isinstance(value, int):
            settings[key] = value = float(value)
        if type(value) is not type(default):
            kind = _KINDS.get(type(default), type(default).__name__)
            raise ConfigError(f"Setting {key} must be {kind}, not {value!r}.")
    if settings["MODERATION"] not in _MODERATION_MODES:
        raise ConfigError(
            f"MODERATION must be 'post' or 'pre', not {settings['MODERATION']!r}."
        )
    for key in _POSITIVE:
        if settings[key] < 1:
            raise ConfigError(f"Setting {key} must be a positive number.")
    if settings["PROXY_HOPS"] < 0 or settings["REPUBLISH_DELAY"] < 0:
        raise ConfigError("PROXY_HOPS and REPUBLISH_DELAY cannot be negative.")
    _check_rate_limit(settings["RATE_LIMIT_WRITES"])
    _check_origins(settings)
    settings["SITE_URL"] = settings["SITE_URL"].rstrip("/")
    return settings


_POSITIVE = (
    "MAX_REQUEST_BYTES",
    "MAX_FORM_FIELDS",
    "COMMENT_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "SEGMENT_SIZE",
    "CACHE_MB",
)


def _check_rate_limit(value: str) -> None:
    try:
        parsed = parse_many(value)
    except ValueError:
        parsed = []
    if not parsed:
        raise ConfigError(
            f"RATE_LIMIT_WRITES={value!r} is not a rate limit; write it like "
            "'10 per minute;200 per day'."
        )


def _check_origins(settings: dict[str, Any]) -> None:
    named = [("SITE_URL", settings["SITE_URL"])] if settings["SITE_URL"] else []
    named += [("ALLOWED_ORIGINS", url) for url in settings["ALLOWED_ORIGINS"]]
    for key, url in named:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"{key} needs full addresses like https://talk.example.org, "
                f"not {url!r}."
            )
