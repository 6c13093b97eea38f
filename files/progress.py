"""A one-line progress bar for the maintenance commands, written to stderr.

Dependency-free on purpose (no Django, no third-party bar): it draws only when the stream
is a terminal, so cron mail, CI logs and ``--no-progress`` runs hold just the commands' own
lines. Redraws are throttled, so advancing it once per chunk or per row costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal, Protocol

Unit = Literal["items", "bytes"]

_ERASE_LINE = "\r\x1b[K"


class Stream(Protocol):
    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


def human_bytes(size: float) -> str:
    """``1536`` -> ``1.5 KiB``: short enough for a progress line."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


class Progress:
    """``label [#####-----]  50%  5/10`` on one line, redrawn in place.

    Use one stage at a time: :meth:`start` (or the :meth:`stage` context manager), then
    :meth:`advance`, then :meth:`finish`. ``total=None`` shows a running count instead of
    a bar. A disabled instance accepts every call and draws nothing.
    """

    def __init__(
        self,
        stream: Stream | None = None,
        *,
        enabled: bool = True,
        width: int = 28,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.enabled = enabled and stream is not None
        self.width = width
        self.interval = interval
        self.clock = clock
        self.label = ""
        self.total: int | None = None
        self.unit: Unit = "items"
        self.done = 0
        self._started = 0.0
        self._drawn_at: float | None = None
        self._visible = False

    @classmethod
    def off(cls) -> Progress:
        return cls(None, enabled=False)

    @classmethod
    def to(cls, stream: Stream, *, enabled: bool = True) -> Progress:
        """A bar on ``stream`` if it is a terminal (and ``enabled``), else a silent one.

        ``stream`` is the stream itself (a command's ``options["stderr"]`` or
        ``sys.stderr``), not the command's ``self.stderr``: Django's wrapper appends a
        newline to every write, which would defeat ``\\r`` redraws.
        """
        if not (enabled and _is_terminal(stream)):
            return cls.off()
        return cls(stream)

    # --- stages ----------------------------------------------------------------------

    def start(self, label: str, total: int | None = None, *, unit: Unit = "items") -> None:
        self.finish()
        self.label, self.total, self.unit, self.done = label, total, unit, 0
        self._started = self.clock()
        self._drawn_at = None
        self._draw(force=True)

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        self._draw()

    def finish(self) -> None:
        """Draw the stage's final state and end its line."""
        if self._visible:
            self._draw(force=True)
            self._write("\n")
            self._visible = False

    @contextmanager
    def stage(
        self, label: str, total: int | None = None, *, unit: Unit = "items"
    ) -> Iterator[None]:
        self.start(label, total, unit=unit)
        try:
            yield
        finally:
            self.finish()

    def clear(self) -> None:
        """Erase the bar so another line can be printed; the next advance redraws it."""
        if self._visible:
            self._write(_ERASE_LINE)
            self._visible = False
            self._drawn_at = None

    # --- drawing ---------------------------------------------------------------------

    def render(self) -> str:
        done = self._amount(self.done)
        if not self.total:
            return f"{self.label} {done}"
        fraction = min(self.done / self.total, 1.0)
        filled = int(self.width * fraction)
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{self.label} [{bar}] {fraction:4.0%} {done}/{self._amount(self.total)}"
        elapsed = self.clock() - self._started
        if 0 < fraction < 1 and elapsed > 1:
            remaining = elapsed * (1 - fraction) / fraction
            line += f" ~{_duration(remaining)} left"
        return line

    def _amount(self, value: int) -> str:
        return human_bytes(value) if self.unit == "bytes" else str(value)

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if not force and self._drawn_at is not None and now - self._drawn_at < self.interval:
            return
        self._drawn_at = now
        self._write(_ERASE_LINE + self.render())
        self._visible = True

    def _write(self, text: str) -> None:
        assert self.stream is not None
        self.stream.write(text)
        self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
