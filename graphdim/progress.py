"""What a person waiting for a run sees: tqdm on stderr, behind one switch.

The training loop's bar (:func:`graphdim.fit`) is tqdm; every other phase that can take
seconds uses the helpers here, which are tqdm too:

- :func:`steps` ``(iterable, desc)``: a bar over a grid, folds or candidates;
- :func:`note` ``(message)``: one line (a header, a fold's figure), printed above any bar;
- :func:`waiting` ``(desc)``: a line that counts seconds while one opaque call runs (t-SNE,
  processing a dataset), so no phase is silent.

Bars appear only once a phase has run for :data:`DELAY` seconds (a quick phase prints
nothing). ``with showing(False):`` silences all of it, the training bar included; the CLI's
``--quiet`` and the experiments' ``progress=False`` do that.
"""
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterable, Iterator, Optional

from tqdm.auto import tqdm

DELAY = 1.0  # seconds before a bar shows: a phase shorter than that stays silent
_shown = [True]


def enabled() -> bool:
    """Whether progress is shown now (see :func:`showing`)."""
    return _shown[-1]


@contextmanager
def showing(on: bool = True) -> Iterator[None]:
    """Show progress inside the block only if ``on`` (and the enclosing block shows it):
    ``showing(False)`` silences everything inside, and an inner ``showing(True)`` cannot
    turn it back on."""
    _shown.append(enabled() and bool(on))
    try:
        yield
    finally:
        _shown.pop()


def note(message: str) -> None:
    """Print ``message`` as one line on stderr (above any bar), unless silenced."""
    if enabled():
        tqdm.write(message, file=sys.stderr)


def steps(iterable: Iterable, desc: str, total: Optional[int] = None, unit: str = 'it',
          **options) -> tqdm:
    """``iterable`` under a tqdm bar named ``desc`` that appears after :data:`DELAY`
    seconds and is erased when done (``for x in steps(grid, 'probe'): ...``)."""
    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=False, delay=DELAY,
                dynamic_ncols=True, file=sys.stderr, disable=not enabled(), **options)


@contextmanager
def waiting(desc: str, interval: float = 0.5) -> Iterator[None]:
    """Around one call that reports nothing itself: after :data:`DELAY` seconds a line
    ``desc ... 12s`` counts the seconds until the call returns, then is erased."""
    if not enabled():
        yield
        return
    bar = tqdm(total=None, desc=desc, bar_format='{desc} ... {elapsed}', leave=False,
               file=sys.stderr, dynamic_ncols=True, delay=DELAY)
    stop, start = threading.Event(), time.monotonic()

    def tick() -> None:
        while not stop.wait(interval):
            if time.monotonic() - start >= DELAY:
                bar.refresh()

    ticker = threading.Thread(target=tick, name='graphdim-progress', daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        bar.close()
