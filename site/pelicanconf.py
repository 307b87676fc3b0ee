"""Pelican settings for the Townsquare site, used by ``townsquare build``.

Paths are relative to this file. ``publishconf.py`` adds what only the
public deployment needs (absolute URLs, feeds).
"""

SITENAME = "Havenford Talks"
SITESUBTITLE = "Have your say on the future of Havenford"
AUTHOR = "Town of Havenford"
SITEURL = ""
TIMEZONE = "America/Toronto"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%-d %B %Y"

PATH = "content"
THEME = "theme"
THEME_STATIC_DIR = "theme"
STATIC_PATHS: list[str] = []

# Topics and news updates are Pelican articles; the folder names the kind.
ARTICLE_PATHS = ["topics", "updates"]
PAGE_PATHS = ["pages"]
USE_FOLDER_AS_CATEGORY = True
# Slugs come from file names so a page keeps its address (and its comments)
# when an editor rewords its title.
SLUGIFY_SOURCE = "basename"

ARTICLE_URL = "{category}/{slug}/"
ARTICLE_SAVE_AS = "{category}/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
CATEGORY_URL = "{slug}/"
CATEGORY_SAVE_AS = "{slug}/index.html"
TAG_URL = "tags/{slug}/"
TAG_SAVE_AS = "tags/{slug}/index.html"

DIRECT_TEMPLATES = ["index"]
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAGS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
DEFAULT_PAGINATION = False

FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

# Our theme escapes every variable; only editor Markdown and comment HTML
# that passed the sanitiser are marked safe in the templates.
JINJA_ENVIRONMENT = {
    "autoescape": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "extensions": [],
}

PLUGINS = ["townsquare.site.plugin"]

# Published comments, exported by ``townsquare publish`` (public fields only).
TOWNSQUARE_DATA_PATH = "data"
# Where the backend's address is, as seen from the browser.
TOWNSQUARE_API_URL = "/api"
