"""User-facing errors: the CLI prints their message on one line and exits with code 2."""


LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() splits on


class GankitError(Exception):
    """A problem with the user's input (names, config, files), not a bug in gankit.

    The message is kept to one line: line breaks that arrive inside user input (a key, a path)
    are shown escaped rather than splitting the message.
    """

    def __init__(self, message: str):
        super().__init__("".join(c.encode("unicode_escape").decode() if c in LINE_BREAKS else c for c in str(message)))


def summary(err: BaseException, limit: int = 300) -> str:
    """An exception's message on one line, whole sentences first: all its lines joined, cut at `limit` characters."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[:limit] + " ..."
