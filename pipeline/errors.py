"""The one error type users see: a message that fits on one line."""


class FactCheckError(Exception):
    """A problem with the user's input or setup, reported as one line and a non-zero exit."""
