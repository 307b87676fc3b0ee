"""Settings: defaults, then a TOML file, then TOWNSQUARE_* variables."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from townsquare import config
from townsquare.errors import ConfigError


@pytest.fixture(autouse=True)
def empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each test where no townsquare.toml lies around."""
    folder = tmp_path / "cwd"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def write_toml(folder: Path, text: str, name: str = "settings.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_file(folder: Path, text: str, **environ: str) -> dict[str, Any]:
    path = write_toml(folder, text)
    return config.load(environ={"TOWNSQUARE_CONFIG": str(path), **environ})


def config_error(**kwargs: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        config.load(**kwargs)
    assert caught.value.message == str(caught.value)
    return caught.value.message


# --- Defaults ------------------------------------------------------------------


def test_defaults_need_no_configuration() -> None:
    settings = config.load(environ={})

    assert settings == config.DEFAULTS
    assert settings["MODERATION"] == "post"
    assert settings["PROXY_HOPS"] == 0
    assert settings["ALLOWED_ORIGINS"] == []
    assert settings["MAX_REQUEST_BYTES"] == 64 * 1024
    assert settings["RATE_LIMIT_WRITES"] == "10 per minute;200 per day"


def test_load_does_not_share_mutable_defaults() -> None:
    first = config.load(environ={})
    first["ALLOWED_ORIGINS"].append("https://changed.example")

    assert config.DEFAULTS["ALLOWED_ORIGINS"] == []
    assert config.load(environ={})["ALLOWED_ORIGINS"] == []


def test_load_reads_the_real_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOWNSQUARE_MODERATION", "pre")

    assert config.load()["MODERATION"] == "pre"


# --- The file ------------------------------------------------------------------


def test_toml_file_named_by_the_environment(empty_folder: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="townsquare.config")
    text = """
moderation = "pre"
proxy_hops = 1
site_url = "https://talk.example/"
allowed_origins = ["https://partner.example"]
republish_delay = 2
"""
    settings = load_file(empty_folder, text)

    assert settings["MODERATION"] == "pre"
    assert settings["PROXY_HOPS"] == 1
    assert settings["SITE_URL"] == "https://talk.example"
    assert settings["ALLOWED_ORIGINS"] == ["https://partner.example"]
    assert settings["REPUBLISH_DELAY"] == 2.0
    assert isinstance(settings["REPUBLISH_DELAY"], float)
    assert "settings.toml" in caplog.text


def test_upper_case_keys_in_the_file_work_too(empty_folder: Path) -> None:
    assert load_file(empty_folder, 'MODERATION = "pre"')["MODERATION"] == "pre"


def test_townsquare_toml_in_the_working_folder(empty_folder: Path) -> None:
    write_toml(empty_folder, "segment_size = 32", name=config.DEFAULT_CONFIG_FILE)

    assert config.load(environ={})["SEGMENT_SIZE"] == 32


def test_missing_file_named_by_the_environment(empty_folder: Path) -> None:
    missing = empty_folder / "nowhere.toml"

    message = config_error(environ={"TOWNSQUARE_CONFIG": str(missing)})

    assert str(missing) in message
    assert "TOWNSQUARE_CONFIG" in message


@pytest.mark.parametrize(
    "content",
    [
        b"moderation = ",
        b"[broken",
        b'moderation = "pre"\nmoderation = "post"',
        b"\xff\xfe",
    ],
    ids=["no-value", "bad-table", "duplicate-key", "not-utf8"],
)
def test_unreadable_file(empty_folder: Path, content: bytes) -> None:
    path = empty_folder / "broken.toml"
    path.write_bytes(content)

    message = config_error(environ={"TOWNSQUARE_CONFIG": str(path)})

    assert message.startswith(f"Cannot read {path}")


# --- Environment variables -----------------------------------------------------


def test_environment_values_are_parsed_by_the_default_type() -> None:
    settings = config.load(
        environ={
            "TOWNSQUARE_PROXY_HOPS": " 2 ",
            "TOWNSQUARE_MAX_REQUEST_BYTES": "1024",
            "TOWNSQUARE_ALLOWED_ORIGINS": " https://a.example , https://b.example,, ",
            "TOWNSQUARE_REPUBLISH_DELAY": "0.25",
            "TOWNSQUARE_MODERATION": "pre",
        }
    )

    assert settings["PROXY_HOPS"] == 2
    assert settings["MAX_REQUEST_BYTES"] == 1024
    assert settings["ALLOWED_ORIGINS"] == ["https://a.example", "https://b.example"]
    assert settings["REPUBLISH_DELAY"] == 0.25
    assert settings["MODERATION"] == "pre"


def test_empty_list_variable_means_no_origins() -> None:
    settings = config.load(environ={"TOWNSQUARE_ALLOWED_ORIGINS": ""})

    assert settings["ALLOWED_ORIGINS"] == []


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("TOWNSQUARE_PROXY_HOPS", "two"),
        ("TOWNSQUARE_SEGMENT_SIZE", "1.5"),
        ("TOWNSQUARE_REPUBLISH_DELAY", "soon"),
        ("TOWNSQUARE_MAX_REQUEST_BYTES", ""),
    ],
)
def test_environment_numbers_must_be_numbers(name: str, raw: str) -> None:
    message = config_error(environ={name: raw})

    assert name in message
    assert repr(raw) in message
    assert "not a number" in message


def test_precedence_file_then_environment_then_overrides(empty_folder: Path) -> None:
    path = write_toml(empty_folder, "segment_size = 10\ncache_mb = 20\nproxy_hops = 3")
    environ = {
        "TOWNSQUARE_CONFIG": str(path),
        "TOWNSQUARE_CACHE_MB": "21",
        "TOWNSQUARE_PROXY_HOPS": "4",
    }

    settings = config.load({"PROXY_HOPS": 5}, environ=environ)

    assert settings["SEGMENT_SIZE"] == 10
    assert settings["CACHE_MB"] == 21
    assert settings["PROXY_HOPS"] == 5


def test_config_variable_is_not_a_setting(empty_folder: Path, caplog) -> None:
    path = write_toml(empty_folder, "")

    settings = config.load(environ={"TOWNSQUARE_CONFIG": str(path)})

    assert "CONFIG" not in settings
    assert "Unknown setting" not in caplog.text


# --- Unknown keys --------------------------------------------------------------


def test_unknown_keys_are_warned_about(empty_folder: Path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="townsquare.config")
    path = write_toml(empty_folder, 'colour = "red"')

    config.load(
        {"SHAPE": "round", "TESTING": True, "SECRET_KEY": "x"},
        environ={"TOWNSQUARE_CONFIG": str(path), "TOWNSQUARE_MODERATOIN": "pre"},
    )

    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "Unknown setting COLOUR is ignored." in warned
    assert "Unknown setting MODERATOIN is ignored." in warned
    assert "Unknown setting SHAPE is ignored." in warned
    assert not any("TESTING" in m or "SECRET" in m for m in warned)


def test_known_keys_are_not_warned_about(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="townsquare.config")

    config.load({"MODERATION": "pre"}, environ={"TOWNSQUARE_PROXY_HOPS": "1"})

    assert caplog.records == []


# --- Bad types and values ------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        ("PROXY_HOPS", "two", "a whole number"),
        ("PROXY_HOPS", True, "a whole number"),
        ("PROXY_HOPS", 1.0, "a whole number"),
        ("ALLOWED_ORIGINS", "https://a.example", "a list"),
        ("MODERATION", 1, "text"),
        ("REPUBLISH_DELAY", "1", "a number"),
        ("DATA_DIR", None, "text"),
    ],
)
def test_wrong_types_are_refused(key: str, value: Any, kind: str) -> None:
    message = config_error(overrides={key: value}, environ={})

    assert message.startswith(f"Setting {key} must be ")
    assert kind in message
    assert repr(value) in message


def test_wrong_type_in_the_file_names_the_setting(empty_folder: Path) -> None:
    path = write_toml(empty_folder, 'max_request_bytes = "64k"')

    message = config_error(environ={"TOWNSQUARE_CONFIG": str(path)})

    assert "MAX_REQUEST_BYTES" in message
    assert "'64k'" in message


def test_moderation_must_be_post_or_pre() -> None:
    message = config_error(overrides={"MODERATION": "sometimes"}, environ={})

    assert "'post' or 'pre'" in message
    assert "'sometimes'" in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("PROXY_HOPS", -1),
        ("MAX_REQUEST_BYTES", 0),
        ("SEGMENT_SIZE", 0),
        ("CACHE_MB", -5),
    ],
)
def test_out_of_range_numbers_are_refused(key: str, value: int) -> None:
    message = config_error(overrides={key: value}, environ={})

    assert key in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("COMMENT_MAX_LENGTH", 0),
        ("NAME_MAX_LENGTH", -3),
        ("MAX_FORM_FIELDS", 0),
    ],
)
def test_limits_that_refuse_everything_are_refused(key: str, value: Any) -> None:
    """A zero or negative limit makes every contribution fail; say so at start."""
    message = config_error(overrides={key: value}, environ={})

    assert key in message


@pytest.mark.parametrize("limit", ["banana", "10 per fortnight", "ten per minute", ""])
def test_bad_rate_limits_are_refused_at_start(limit: str) -> None:
    message = config_error(overrides={"RATE_LIMIT_WRITES": limit}, environ={})

    assert "RATE_LIMIT_WRITES" in message


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ALLOWED_ORIGINS", [1]),
        ("ALLOWED_ORIGINS", ["partner.example"]),
        ("SITE_URL", "talk.example"),
    ],
)
def test_addresses_must_be_urls(key: str, value: Any) -> None:
    message = config_error(overrides={key: value}, environ={})

    assert key in message


def test_the_app_refuses_bad_settings(make_app) -> None:
    with pytest.raises(ConfigError):
        make_app(MODERATION="maybe")
