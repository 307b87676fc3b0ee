"""A person in a real browser: post and reply, with JavaScript on and off.

Drives Debian's Chromium through Playwright against the site and the backend
served together on loopback, as ``townsquare demo`` does.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright

from livesite import CHROMIUM_ARGS, chromium_path, free_port, serving
from townsquare.demo import add_static_site
from townsquare.publish.publisher import Publisher

pytestmark = pytest.mark.browser

TOPIC = "/topics/bike-lanes/"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def site_url(make_app: Callable[..., Flask], built: Publisher) -> Iterator[str]:
    app = make_app()
    add_static_site(app, built.output_dir)
    with serving(app) as url:
        yield url


def open_page(browser: Browser, url: str, *, javascript: bool) -> Page:
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.goto(url)
    return page


def fill_comment(page: Page, author: str, body: str) -> None:
    page.get_by_label("Your name", exact=True).fill(author)
    page.get_by_label("Your comment", exact=True).fill(body)


def static_comments(page: Page) -> Any:
    return page.locator("#comments .comment-body")


def test_without_javascript_comment_and_reply_are_published(
    browser: Browser, site_url: str, built: Publisher
) -> None:
    page = open_page(browser, site_url + TOPIC, javascript=False)
    fill_comment(page, "Noor", "Protected lanes would let my kids ride to school.")
    page.get_by_role("button", name="Post comment").click()

    expect(page).to_have_url(re.compile(r"/topics/bike-lanes/#comment-published$"))
    expect(page.locator("#comment-published")).to_be_visible()
    expect(page.locator("#comment-published")).to_contain_text("published")

    built.publish()
    page.reload()
    expect(static_comments(page)).to_have_count(1)
    expect(page.locator("#comments")).to_contain_text("let my kids ride to school")

    page.get_by_role("link", name="Reply to Noor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reply to Noor")
    fill_comment(page, "Sam", "Agreed, and please add lighting.")
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator("#comment-published")).to_be_visible()

    built.publish()
    page.goto(site_url + TOPIC)
    reply = page.locator("#comments .comment-replies .comment-body")
    expect(reply).to_have_text("Agreed, and please add lighting.")
    expect(page.locator("#comments-heading")).to_have_text("2 comments")


def test_without_javascript_errors_keep_the_answers(
    browser: Browser, site_url: str
) -> None:
    page = open_page(browser, site_url + TOPIC, javascript=False)
    # The browser's own checks would stop an empty name; a long one gets through.
    fill_comment(page, "x", "Kept text")
    page.get_by_label("Your name", exact=True).evaluate(
        "el => el.removeAttribute('maxlength')"
    )
    page.get_by_label("Your name", exact=True).fill("N" * 200)
    page.get_by_role("button", name="Post comment").click()

    expect(page).to_have_title(re.compile(r"^Error:"))
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("80 characters or fewer")
    expect(page.get_by_label("Your comment", exact=True)).to_have_value("Kept text")


def test_with_javascript_comment_and_reply_appear_at_once(
    browser: Browser, site_url: str, built: Publisher
) -> None:
    page = open_page(browser, site_url + TOPIC, javascript=True)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    fill_comment(page, "Ana", "Could the lanes continue past the school?")
    page.get_by_role("button", name="Post comment").click()

    new = page.locator("#comments .comment", has=page.locator(".badge-new"))
    expect(new).to_have_count(1)
    expect(new).to_contain_text("continue past the school")
    expect(page.locator(".notice-success").first).to_contain_text("published")
    expect(page.locator("#comments-heading")).to_have_text("1 comment")

    page.get_by_role("link", name="Reply to Ana").click()
    expect(page.get_by_label("Your name", exact=True)).to_be_focused()
    fill_comment(page, "Priya (Transport team)", "Yes, the plan runs to Oak Avenue.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".comment-replies .comment")).to_contain_text("Oak Avenue")
    expect(page.locator("#comments-heading")).to_have_text("2 comments")

    built.publish()
    page.reload()
    expect(page.locator("#comments .badge-new")).to_have_count(0)
    expect(page.locator(".comment-replies .comment-body")).to_have_text(
        "Yes, the plan runs to Oak Avenue."
    )
    assert not [e for e in errors if "Content Security Policy" in e]


def test_with_javascript_shows_comments_newer_than_the_build(
    browser: Browser, site_url: str, post_comment: Callable[..., Any]
) -> None:
    assert post_comment(author="Lee", body="Posted after the build").status_code == 201
    page = open_page(browser, site_url + TOPIC, javascript=True)
    new = page.locator("#comments .comment", has=page.locator(".badge-new"))
    expect(new).to_contain_text("Posted after the build")
    expect(page.locator("#comments-heading")).to_have_text("1 comment")

    static = open_page(browser, site_url + TOPIC, javascript=False)
    expect(static.locator("#comments .comment")).to_have_count(0)


def test_with_javascript_errors_are_shown_in_place(
    browser: Browser, site_url: str
) -> None:
    page = open_page(browser, site_url + TOPIC, javascript=True)
    page.get_by_label("Your comment", exact=True).fill("No name given")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".error-summary")).to_contain_text("Enter your name")
    name = page.get_by_label("Your name", exact=True)
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Your comment", exact=True)).to_have_value("No name given")


def test_closed_topic_has_no_form(browser: Browser, site_url: str) -> None:
    page = open_page(browser, site_url + "/topics/old-library-hours/", javascript=True)
    expect(page.locator("#comment-form")).to_have_count(0)
    expect(page.get_by_role("heading", name="Comments are closed")).to_be_visible()


def test_demo_republishes_on_its_own(
    browser: Browser, site_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "TOWNSQUARE_REPUBLISH_DELAY": "0.2"}
    command = [
        sys.executable, "-m", "townsquare", "--site", str(site_dir),
        "--data", str(tmp_path / "demo-data"), "--output", str(tmp_path / "demo-out"),
        "demo", "--port", str(port),
    ]  # fmt: skip
    log = (tmp_path / "demo.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        page = _wait_for_page(browser, url + TOPIC)
        fill_comment(page, "Jo", "Published by the demo itself")
        page.get_by_role("button", name="Post comment").click()
        expect(page.locator("#comment-published")).to_be_visible()
        for _ in range(50):
            page.reload()
            if static_comments(page).count():
                break
            time.sleep(0.2)
        expect(static_comments(page)).to_have_text(["Published by the demo itself"])
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _wait_for_page(browser: Browser, url: str) -> Page:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    for _ in range(100):
        try:
            page.goto(url)
            return page
        except Exception:
            time.sleep(0.1)
    raise AssertionError(f"The demo did not start serving {url}")
