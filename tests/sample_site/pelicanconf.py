"""A tiny site for the tests, built with the real Townsquare theme."""

SITENAME = "Sample Town Talks"
SITESUBTITLE = "A site for the test suite"
AUTHOR = "Sample Town"
SITEURL = ""
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%-d %B %Y"
PATH = "content"
# The fixtures copy the real theme next to this file.
THEME = "theme"
THEME_STATIC_DIR = "theme"
STATIC_PATHS: list[str] = []
ARTICLE_PATHS = ["topics", "updates"]
PAGE_PATHS = ["pages"]
USE_FOLDER_AS_CATEGORY = True
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
JINJA_ENVIRONMENT = {
    "autoescape": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "extensions": [],
}
PLUGINS = ["townsquare.site.plugin"]
TOWNSQUARE_DATA_PATH = "data"
TOWNSQUARE_API_URL = "/api"
