"""User-facing errors: the CLI prints their message on one line and exits with code 2."""


class GankitError(Exception):
    """A problem with the user's input (names, config, files), not a bug in gankit.

    The message is kept to one line: line breaks that arrive inside user input (a key, a path)
    are shown escaped rather than splitting the message.
    """

    def __init__(self, message: str):
        super().__init__(str(message).replace("\r", "\\r").replace("\n", "\\n"))


def summary(err: BaseException, limit: int = 300) -> str:
    """An exception's message on one line, whole sentences first: all its lines joined, cut at `limit` characters."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[:limit] + " ..."
