"""Settings for the public deployment: ``townsquare build --production``."""

import os
import sys

sys.path.append(os.path.dirname(__file__))

from pelicanconf import *  # noqa: F403

# Netlify sets URL to the site's primary address during its builds.
SITEURL = os.environ.get("URL", "")
RELATIVE_URLS = False

FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml" if SITEURL else None
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml" if SITEURL else None

DELETE_OUTPUT_DIRECTORY = True
