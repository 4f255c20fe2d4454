"""Routes of kbquery serve, added by the next change."""


def routes(app, limit: int) -> None:
    """Nothing yet."""
