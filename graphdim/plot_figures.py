"""The pictures themselves: a t-SNE map of embeddings coloured by label, the loss curves, and
writing figures all or none (:mod:`graphdim.plots` draws a run's from its folder).

Needs matplotlib (the ``plot`` extra) and scikit-learn; both, and torch, are imported only
where a picture is drawn, so ``graphdim plot --help`` loads none of them. PNG, or PDF and SVG
(vector: the dots are paths, not an image) for papers.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

from .progress import waiting

PLOT_FORMATS = ('png', 'pdf', 'svg')
DEFAULT_DPI = 300  # print resolution; a PNG of 6.4 x 6 inches is then 1920 x 1800 pixels
DPI_RANGE = (20, 1200)  # beyond 1200 dpi a PNG takes hundreds of MiB and shows nothing more
# Below float32's resolution: rows whose spread is this small next to their size differ only
# by rounding (a collapsed encoder), and t-SNE's PCA start divides by that spread.
COLLAPSED = 1e-6
SMALL_MAP = 1000  # points: t-SNE of at most this many runs on one thread (tsne_points)


def check_plot_dependencies(option: str = '--plot') -> None:
    """Fail at once, in one line, where plots cannot be drawn (``--plot`` checks this before
    training, as ``--tensorboard`` checks for tensorboard)."""
    for module in ('matplotlib', 'sklearn.manifold'):
        try:
            importlib.import_module(module)
        except ImportError:
            raise ValueError(f"{option} needs {module.split('.')[0]}, which is not installed: "
                             f"pip install 'graphdim[plot]'" + (
                                 ' (or drop --plot)' if option == '--plot' else '')) from None


def check_plot_options(format: str = 'png', dpi: int = DEFAULT_DPI,
                       max_points: int = 5000) -> None:
    """One ``ValueError`` naming the option where a picture cannot be drawn as asked."""
    if format not in PLOT_FORMATS:
        raise ValueError(f"--format must be one of {', '.join(PLOT_FORMATS)}; got {format!r}")
    if type(dpi) is not int or not DPI_RANGE[0] <= dpi <= DPI_RANGE[1]:
        raise ValueError(f"--dpi must be a whole number from {DPI_RANGE[0]} to {DPI_RANGE[1]} "
                         f"(dots per inch of a PNG); got {dpi!r}")
    if type(max_points) is not int or max_points < 2:
        raise ValueError(f"--max-points must be a whole number of at least 2 (the t-SNE map "
                         f"shows that many embeddings at most); got {max_points!r}")


def _pyplot():
    check_plot_dependencies('graphdim plot')
    import matplotlib
    matplotlib.use('Agg')  # files only, no display needed
    import matplotlib.pyplot as plt
    return plt


def _literal(text: str) -> str:
    """``text`` shown as it is: no mathtext for a '$', and a legend entry starting with '_'
    (which matplotlib would leave out of the legend) kept."""
    text = str(text).replace('$', r'\$')
    return '\u200b' + text if text.startswith('_') else text


class NoMapError(ValueError):
    """Rows that have no t-SNE map (:func:`embedding_problem`)."""


def embedding_problem(embeddings) -> Optional[str]:
    """Why no t-SNE map of these rows can be drawn, or None. Non-finite values, fewer than two
    rows, and rows that are all the same (up to rounding: a collapsed encoder) have no map;
    t-SNE crashes the process on the last (exit 139 inside scikit-learn)."""
    import torch
    rows = embeddings.detach().double()
    if rows.size(0) < 2 or rows.size(1) < 1:
        return f"{rows.size(0)} embedding(s) of {rows.size(1)} values: a map needs 2 x 1"
    if not bool(torch.isfinite(rows).all()):
        return "the embeddings hold NaN or infinite values"
    spread = float((rows - rows.mean(0)).abs().max())
    if spread <= COLLAPSED * float(rows.abs().max()) or spread == 0:
        return (f"all {rows.size(0)} embeddings are the same (up to rounding): the encoder "
                f"collapsed")
    return None


def tsne_points(embeddings, seed: int = 0):
    """The rows' 2-D t-SNE (seeded). They are centred and scaled to [-1, 1] first: t-SNE's map
    does not depend on a common shift or scale, and spreads near float32's smallest or
    largest numbers crash or overflow its PCA start. Callers check
    :func:`embedding_problem` first."""
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits
    rows = embeddings.detach().double()
    centred = rows - rows.mean(0)
    n = rows.size(0)
    # perplexity must be below the number of points (2 points: 1)
    tsne = TSNE(n_components=2, init='pca', random_state=seed,
                perplexity=min(30.0, max(2.0, (n - 1) / 3), n - 1))
    # A small map on one thread: OpenMP threads cost more than they save there, and on a
    # busy machine over ten times more (34 points: 0.2 s alone, 3 s with two threads).
    with waiting(f"t-SNE of {n} x {rows.size(1)} embeddings"), \
            threadpool_limits(1 if n <= SMALL_MAP else None, user_api='openmp'):
        return tsne.fit_transform((centred / centred.abs().max()).numpy())


def tsne_figure(embeddings, labels, title: str = '', seed: int = 0, max_points: int = 5000,
                class_names: Optional[Sequence[str]] = None):
    """A matplotlib figure of a 2-D t-SNE of ``embeddings`` coloured by ``labels`` (a legend
    names each class: ``class_names[id]`` or ``class <id>``); at most ``max_points`` rows, a
    seeded sample. A :class:`NoMapError` where the rows have none (:func:`embedding_problem`)."""
    import torch
    plt = _pyplot()
    generator = torch.Generator().manual_seed(seed)
    keep = torch.randperm(embeddings.size(0), generator=generator)[:max_points]
    problem = embedding_problem(embeddings[keep])
    if problem:
        raise NoMapError(problem)
    points = tsne_points(embeddings[keep], seed)
    figure, axes = plt.subplots(figsize=(6.4, 6))
    size = min(40.0, max(3.0, 4000.0 / keep.numel()))  # visible dots on small graphs
    if labels is None:
        axes.scatter(points[:, 0], points[:, 1], s=size, color='tab:blue')
    else:
        ids = labels[keep].numpy()
        if ids.dtype.kind not in 'iu':  # (a labels.pt changed after the run)
            raise ValueError(f"labels must be whole-number class ids; these are {ids.dtype}")
        classes = [c for c in sorted(set(ids.tolist())) if c >= 0]
        cmap = plt.get_cmap('tab10' if len(classes) <= 10 else 'tab20')
        for i, c in enumerate(classes):
            mine = ids == c
            name = class_names[c] if class_names is not None and c < len(class_names) \
                else f'class {c}'
            axes.scatter(points[mine, 0], points[mine, 1], s=size, label=_literal(name),
                         color=cmap(i % cmap.N), linewidths=0)
        if (ids < 0).any():
            axes.scatter(points[ids < 0, 0], points[ids < 0, 1], s=size, color='lightgrey',
                         label='unlabelled', linewidths=0)
        if len(classes) <= 20:
            axes.legend(loc='center left', bbox_to_anchor=(1.01, 0.5), frameon=False,
                        markerscale=max(1.0, 30.0 / size) ** 0.5, fontsize='small')
    axes.set_title(title or f't-SNE of {embeddings.size(1)}-d embeddings', fontsize='medium')
    axes.set_xticks([]), axes.set_yticks([])
    axes.set_xlabel('t-SNE 1'), axes.set_ylabel('t-SNE 2')
    figure.tight_layout()
    return figure


def loss_figure(losses_by_seed: dict, title: str = 'training loss',
                best_epochs: Optional[dict] = None):
    """A matplotlib figure of the loss per epoch, one line per seed; each seed's best epoch
    (the one whose parameters were kept: ``best_epochs[seed]``, else the lowest loss) is
    marked."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 4))
    for i, (seed, losses) in enumerate(losses_by_seed.items()):
        colour = f'C{i % 10}'
        axes.plot(range(1, len(losses) + 1), losses, label=f'seed {seed}', color=colour,
                  linewidth=1.2)
        best = (best_epochs or {}).get(seed) or 1 + min(range(len(losses)),
                                                        key=losses.__getitem__)
        if 1 <= best <= len(losses):
            axes.plot([best], [losses[best - 1]], marker='o', color=colour, markersize=6,
                      markeredgecolor='black', linestyle='none',
                      label=f'best epoch {best} (kept)' if len(losses_by_seed) <= 3 else None)
            axes.axvline(best, color=colour, linestyle=':', linewidth=0.8)
    axes.set_xlabel('epoch'), axes.set_ylabel('training loss (lower is better)')
    axes.xaxis.get_major_locator().set_params(integer=True)  # epochs are whole numbers
    if len(losses_by_seed) > 3:  # the markers are not named seed by seed: one entry for all
        axes.plot([], [], marker='o', color='white', markeredgecolor='black',
                  linestyle='none', label='best epoch of each seed (kept)')
    axes.set_title(title, fontsize='medium')
    if len(losses_by_seed) <= 10:
        axes.legend(fontsize='small')
    figure.tight_layout()
    return figure


def save_figures(figures: Sequence[Tuple[Any, Union[str, Path]]], format: str = 'png',
                 dpi: int = DEFAULT_DPI) -> List[Path]:
    """Write each ``(figure, path)`` as ``format``, all or none: temporary files, renamed
    only once every figure has rendered (a kill, a full disk or a failed drawing leaves no
    picture of the group). The figures are closed."""
    import matplotlib
    from .runtime import atomic_write_files
    plt = _pyplot()
    # PDF fonts as TrueType (journals refuse Type 3); no dates: the same figure, same bytes.
    metadata = {'pdf': {'CreationDate': None}, 'svg': {'Date': None}}.get(format)
    try:
        with matplotlib.rc_context({'pdf.fonttype': 42, 'svg.hashsalt': 'graphdim'}):
            atomic_write_files([(Path(path), 'wb', lambda file, figure=figure: figure.savefig(
                file, format=format, dpi=dpi, metadata=metadata)) for figure, path in figures])
    finally:
        for figure, _ in figures:
            plt.close(figure)
    return [Path(path) for _, path in figures]
