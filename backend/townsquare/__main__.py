"""``python -m townsquare`` is the ``townsquare`` command."""

from .cli import main

main()
