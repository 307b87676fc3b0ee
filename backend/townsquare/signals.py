"""Signals other parts of Townsquare can subscribe to.

The demo's re-publisher listens to know when to publish; a moderation queue
or notifications can listen to the same signals without the comment code
knowing about them.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with ``comment=`` after a comment is stored.
comment_added = _signals.signal("comment-added")
