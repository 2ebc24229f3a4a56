"""User-facing errors: the CLI prints their message on one line and exits with code 2."""


class GankitError(Exception):
    """A problem with the user's input (names, config, files), not a bug in gankit."""
