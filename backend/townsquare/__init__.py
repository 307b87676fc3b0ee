"""Townsquare: a static-first insight community.

The package holds the Flask backend that takes contributions, the storage
layer under it, the publish step that bakes published contributions into the
Pelican site, and the ``townsquare`` command line.
"""

import logging

__version__ = "0.1.0"

# A library only adds a NullHandler; the CLI or the app's host configures logs.
logging.getLogger(__name__).addHandler(logging.NullHandler())
