"""Templates for the backend's few HTML pages, in the site's own look.

The backend's templates extend the theme's ``base.html``, found through the
manifest of the last build, so a reply form or an error page has the same
header, navigation and stylesheet as the static pages. Before any build,
a plain fallback ``base.html`` from this package is used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    TemplateNotFound,
)

from .services import services


class ThemeLoader(BaseLoader):
    """Loads from the theme folder named by the current manifest."""

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        folder = services().pages.manifest().templates
        if not folder:
            raise TemplateNotFound(template)
        return FileSystemLoader(folder).get_source(environment, template)


def _theme_globals() -> dict[str, Any]:
    manifest = services().pages.manifest()
    found: dict[str, Any] = {
        "SITENAME": manifest.sitename,
        "SITEURL": current_app.config["SITE_URL"],
        "THEME_STATIC_DIR": "theme",
        "DEFAULT_LANG": "en",
        "section": "",
    }
    found.update(manifest.theme)
    # The configured public address wins: the build may not know it.
    if current_app.config["SITE_URL"]:
        found["SITEURL"] = current_app.config["SITE_URL"]
    return found


def init_app(app: Flask) -> None:
    # The theme's base.html comes first; the package's own is the fallback.
    app.jinja_loader = ChoiceLoader([ThemeLoader(), app.jinja_loader])  # type: ignore[list-item]
    app.context_processor(_theme_globals)
