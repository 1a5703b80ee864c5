"""Every name the live feed uses outside the process, built in one place."""


def feed_stream(prefix: str) -> str:
    """The Redis Stream every app process publishes feed events to and reads them from."""
    return f"{prefix}feed"


def feed_listener(prefix: str) -> str:
    """The client name (CLIENT SETNAME) of each process's one blocking reader of the feed."""
    return f"{prefix}feed-listener"
