"""What a person waiting for a run sees: bars on a terminal, plain lines elsewhere.

Every phase that can take seconds goes through the helpers here:

- :func:`note` ``(message)``: one line (a header, a seed's figures), printed above any bar;
- :func:`waiting` ``(desc)``: one opaque phase (loading, the baselines, t-SNE): on a
  terminal a line that counts its seconds, elsewhere one line ``desc ...`` as it starts;
- :func:`steps` ``(iterable, desc)``: a bar over a grid, folds or candidates (a terminal
  only: off one, the phase around it has said what runs);
- :func:`training_bar`: :func:`graphdim.fit`'s bar over the epochs (off a terminal, one line
  as training starts);
- :func:`ticking`: around a command, every bar of these helpers is redrawn once a second,
  so its elapsed time moves even while one long epoch or fold runs.

Bars are drawn only when standard error is a terminal: a file, a pipe or a notebook gets
lines with no carriage returns and no escape sequences. On a terminal a bar appears once its
phase has run for :data:`DELAY` seconds, nested bars sit below the phase they belong to,
and rates read as "12.5 epochs/s" or "3.2 s/fit". ``with showing(False):`` silences all of
it; the CLI's ``--quiet`` and the experiments' ``progress=False`` do that. Only tqdm's
public API is used.
"""
import sys
import textwrap
import threading
import time
import weakref
from contextlib import contextmanager
from typing import Iterable, Iterator, Optional

from tqdm import tqdm

DELAY = 1.0  # seconds before a bar shows: a phase shorter than that stays silent
REDRAW = 0.1  # seconds at least between two redraws of a bar by its own updates
WIDTH = 100  # columns a header is wrapped to
_shown = [True]
tqdm.get_lock()  # made on tqdm itself, so Bar (a subclass) shares tqdm.write's lock


def enabled() -> bool:
    """Whether progress is shown now (see :func:`showing`)."""
    return _shown[-1]


def on_terminal() -> bool:
    """Whether standard error is a terminal (where bars can redraw themselves)."""
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


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
    if not enabled():
        return
    if on_terminal():
        # From the line's start: an erased nested bar can leave the cursor where it ended.
        tqdm.write('\r' + message, file=sys.stderr)
    else:
        print(message, file=sys.stderr, flush=True)


def fit_width(text: str, width: int = WIDTH) -> str:
    """``text``'s ``' | '``-separated parts packed into lines of at most ``width`` columns
    (continuations indented by two); a part longer than a line is wrapped at its spaces."""
    lines = []
    for part in text.split(' | '):
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += ' | ' + part
        else:
            lines.extend(textwrap.wrap(part, width, initial_indent='  ' if lines else '',
                                       subsequent_indent='  ', break_long_words=False,
                                       break_on_hyphens=False))
    return '\n'.join(lines)


PLURALS = {'batch': 'batches'}  # the units of these helpers that do not just add an s


def plural(unit: str) -> str:
    return PLURALS.get(unit, unit + 's')


def pace(done: float, seconds: float, rate: Optional[float], unit: str) -> str:
    """A rate a reader understands: ``12.5 epochs/s``, or ``3.2 s/fit`` below one a second
    (tqdm's own would say ``1.68K/s`` or ``2.50s/fit``)."""
    rate = rate or (done / seconds if done and seconds else None)
    if not rate:
        return f"? {plural(unit)}/s"
    return f"{rate:.1f} {plural(unit)}/s" if rate >= 1 else f"{1 / rate:.1f} s/{unit}"


class Bar(tqdm):
    """tqdm with :func:`pace` for its rate and the unit in words: a known total as
    ``desc: 40%|####  | 4/10 fits [00:03, 1.3 fits/s]``, an unknown one as
    ``desc: 4 fits [00:03, 1.3 fits/s]``. No ETA: the steps of a grid differ (a larger K,
    a larger C), and tqdm's stays put while one long step runs and the elapsed time climbs."""
    KNOWN = ('{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {units} '
             '[{elapsed}, {pace}{postfix}]')
    UNKNOWN = '{desc}: {n_fmt} {units} [{elapsed}, {pace}{postfix}]'

    @property
    def format_dict(self):
        values = super().format_dict
        values['units'] = plural(values['unit'])
        values['pace'] = pace(values['n'] - values['initial'], values['elapsed'],
                              values['rate'], values['unit'])
        if values['bar_format'] is None:
            values['bar_format'] = self.KNOWN if values['total'] else self.UNKNOWN
        return values


_live: 'weakref.WeakSet[Bar]' = weakref.WeakSet()  # the bars ticking() redraws


def _bar(iterable, **options) -> Bar:
    bar = Bar(iterable, leave=False, dynamic_ncols=True, file=sys.stderr, mininterval=REDRAW,
              **options)
    if not bar.disable:
        _live.add(bar)
    return bar


def steps(iterable: Iterable, desc: str, total: Optional[int] = None, unit: str = 'step',
          **options) -> tqdm:
    """``iterable`` under a bar named ``desc`` that appears after :data:`DELAY` seconds on a
    terminal and is erased when done (``for x in steps(grid, 'probe'): ...``)."""
    return _bar(iterable, desc=desc, total=total, unit=unit, delay=DELAY,
                disable=not (enabled() and on_terminal()), **options)


def training_bar(first_epoch: int, total: int, done: bool, desc: str, patience: int,
                 stops_early: bool, show: bool = True) -> tqdm:
    """The bar over epochs ``first_epoch`` to ``total`` (none where the run is ``done``).
    Early stopping makes the epoch count unknown: no ETA then (one for all ``total`` epochs
    would be wrong), ``epoch 8 of at most 300`` and elapsed time; the caller's postfix shows
    the epochs since the last lower loss."""
    show = show and enabled()
    if show and not on_terminal() and not done:
        resumed = f" (resuming at epoch {first_epoch})" if first_epoch > 1 else ''
        stop = (f", stopping after {patience} epochs without a lower loss"
                if stops_early else '')
        note(f"{desc}: up to {total} epochs of training{resumed}{stop} ...")
    early = '{desc}: epoch {n_fmt} of at most {total_fmt} [{elapsed}, {pace}{postfix}]'
    fixed = ('{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} epochs '
             '[{elapsed}<{remaining}, {pace}{postfix}]')  # epochs alike: an ETA that holds
    return _bar(range(first_epoch, total + 1) if not done else [], desc=desc,
                disable=not (show and on_terminal()), initial=first_epoch - 1, total=total,
                unit='epoch', bar_format=early if stops_early else fixed)


_ticking = [0]


@contextmanager
def ticking(interval: float = 1.0) -> Iterator[None]:
    """While the block runs, redraw every bar of :func:`steps` and :func:`training_bar` at
    least every ``interval`` seconds, so its elapsed time moves while one long step (an
    epoch, a fold) runs: no phase looks frozen. Nested blocks share one thread."""
    if not (enabled() and on_terminal()) or _ticking[0]:
        _ticking[0] += 1  # an outer block's thread is ticking already (or nothing shows)
        try:
            yield
        finally:
            _ticking[0] -= 1
        return
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(interval):
            # Under tqdm's lock, which close() takes to erase a bar: one is never redrawn
            # after it was erased (close() marks it disabled first).
            with tqdm.get_lock():
                now = time.time()
                for bar in list(_live):
                    # Bars within their delay stay hidden; the others are redrawn when they
                    # have not been for `interval` (update() does the same, more often).
                    if not bar.disable and now >= bar.start_t + bar.delay and \
                            now - bar.last_print_t >= interval:
                        bar.refresh(nolock=True)

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
    """Around one phase that reports nothing itself (loading, t-SNE, the baselines): on a
    terminal, after :data:`DELAY` seconds, a line ``desc ... 00:12`` counts its seconds
    until it ends and is then erased; elsewhere one line ``desc ...`` as it starts."""
    if not enabled():
        yield
        return
    if not on_terminal():
        note(f"{desc} ...")
        yield
        return
    # Made now, hidden for DELAY: it takes the first free line, above the bars of the
    # phase it waits for (made later, they go below it).
    line = tqdm(total=None, desc=desc, bar_format='{desc} ... {elapsed}', leave=False,
                delay=DELAY, file=sys.stderr, dynamic_ncols=True)
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(interval):
            line.update(0)  # drawn once DELAY has passed: the elapsed time moves

    ticker = threading.Thread(target=tick, name='graphdim-progress', daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        line.close()
