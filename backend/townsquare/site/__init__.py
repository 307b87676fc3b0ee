"""The Pelican side: the build plugin and what it shares with the publisher."""
