"""What a person waiting for a run sees: tqdm on stderr, behind one switch.

The training loop's bar (:func:`graphdim.fit`) is tqdm; every other phase that can take
seconds uses the helpers here, which are tqdm too:

- :func:`steps` ``(iterable, desc)``: a bar over a grid, folds or candidates;
- :func:`note` ``(message)``: one line (a header, a fold's figure), printed above any bar;
- :func:`waiting` ``(desc)``: a line that counts seconds while one opaque call runs (t-SNE,
  processing a dataset), so no phase is silent;
- :func:`ticking`: around a command, every bar on screen is redrawn once a second, so its
  elapsed time moves even while one long epoch or fold runs.

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
from tqdm.std import tqdm as std_tqdm  # every bar, of any tqdm flavour, is one of its

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
        # On a terminal, from the line's start: an erased nested bar can leave the cursor
        # where its text ended.
        start = '\r' if getattr(sys.stderr, 'isatty', lambda: False)() else ''
        tqdm.write(start + message, file=sys.stderr)


def steps(iterable: Iterable, desc: str, total: Optional[int] = None, unit: str = 'it',
          **options) -> tqdm:
    """``iterable`` under a tqdm bar named ``desc`` that appears after :data:`DELAY`
    seconds and is erased when done (``for x in steps(grid, 'probe'): ...``)."""
    return tqdm(iterable, desc=desc, total=total, unit=unit, leave=False, delay=DELAY,
                dynamic_ncols=True, file=sys.stderr, disable=not enabled(), **options)


_ticking = [0]


@contextmanager
def ticking(interval: float = 1.0) -> Iterator[None]:
    """While the block runs, redraw every bar on screen (the training bar, :func:`steps`'
    bars) at least every ``interval`` seconds, so its elapsed time moves while one long
    step (an epoch, a fold) runs: no phase looks frozen. Nested blocks share one thread."""
    if not enabled() or _ticking[0]:
        _ticking[0] += 1  # an outer block's thread is ticking already (or nothing shows)
        try:
            yield
        finally:
            _ticking[0] -= 1
        return
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(interval):
            # Under tqdm's own (re-entrant) lock, which close() takes too: a bar is never
            # redrawn after it was erased.
            with std_tqdm.get_lock():
                now = time.time()
                for bar in list(std_tqdm._instances):
                    # Bars within their delay stay hidden; the others are redrawn when they
                    # have not been for `interval` (update() does the same, more often).
                    if bar.disable or now < bar.start_t + getattr(bar, 'delay', 0) or \
                            now - bar.last_print_t < interval:
                        continue
                    bar.refresh()  # blocking: a non-blocking acquire can leave a lock held
                    bar.last_print_t = now  # drawn: close() erases it

    ticker = threading.Thread(target=tick, name='graphdim-ticker', daemon=True)
    _ticking[0] += 1
    ticker.start()
    try:
        yield
    finally:
        _ticking[0] -= 1
        stop.set()
        ticker.join()


@contextmanager
def waiting(desc: str, interval: float = 1.0) -> Iterator[None]:
    """Around one call that reports nothing itself: after :data:`DELAY` seconds a line
    ``desc ... 00:12`` counts the seconds until the call returns, then is erased."""
    if not enabled():
        yield
        return
    stop, bars = threading.Event(), []

    def tick() -> None:
        # The line is made only once DELAY has passed (and then drawn every `interval`), so
        # closing it erases it; a call shorter than DELAY prints nothing.
        if stop.wait(DELAY):
            return
        bars.append(tqdm(total=None, desc=desc, bar_format='{desc} ... {elapsed}',
                         leave=False, file=sys.stderr, dynamic_ncols=True))
        while not stop.wait(interval):
            bars[0].refresh()

    ticker = threading.Thread(target=tick, name='graphdim-progress', daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        for bar in bars:
            bar.close()
