"""The objects one app shares between requests, kept on ``app.extensions``."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from .comments.feed import CommentFeed
from .pages import PageDirectory
from .storage import Store

EXTENSION_KEY = "townsquare"


@dataclass(frozen=True)
class Services:
    store: Store
    pages: PageDirectory
    feed: CommentFeed


def services() -> Services:
    """The services of the app handling the current request."""
    found: Services = current_app.extensions[EXTENSION_KEY]
    return found
