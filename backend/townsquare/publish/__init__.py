"""Publishing: export published contributions, then build the static site.

:mod:`.export` writes public data into the site, :mod:`.build` runs Pelican,
:mod:`.fragments` re-renders just the changed parts of built pages, and
:mod:`.publisher` decides which of the two builds a publish needs.
"""
