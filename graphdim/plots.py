"""Pictures of a run: a t-SNE map of the embeddings coloured by label, and the loss curve.

Needs matplotlib (the ``plot`` extra) and scikit-learn; both, and torch, are imported only
where a picture is drawn, so ``graphdim plot --help`` loads none of them. PNG, or PDF and SVG
(vector: the dots are paths, not an image) for papers.
"""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from .progress import note, waiting

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


ROWS = {'node': 'node embeddings', 'graph': 'graph embeddings',
        'image': 'test-image features (Y)'}  # what a run's embeddings are of
# Class names where a dataset's label order is fixed and known; other labels are shown as
# "class <id>" unless the run was given --label-names.
CLASS_NAMES = {
    'cifar10': ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
                'ship', 'truck'),
}


def dataset_class_names(dataset: str) -> Optional[Tuple[str, ...]]:
    """The class names of a named dataset where its labels have names, in label order."""
    key = str(dataset).lower()
    if key == 'karate':  # networkx's 'club' values, in the sorted order karate_club() uses
        import networkx as nx
        graph = nx.karate_club_graph()
        return tuple(sorted({graph.nodes[n]['club'] for n in graph.nodes}))
    return CLASS_NAMES.get(key)


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


def plot_run(run_dir: Union[str, Path], out_dir: Optional[Union[str, Path]] = None,
             max_points: int = 5000, seed: Union[int, str, None] = None,
             format: str = 'png', dpi: int = DEFAULT_DPI) -> List[Path]:
    """``tsne_seed<s>.<format>`` for the run's first seed (``seed``: another seed of the run,
    or ``'all'``: one map per seed with embeddings; at most ``max_points`` rows, a seeded
    sample) and ``loss.<format>`` for all seeds of a run of any kind (node, graph or image).
    Every picture is written, or none (:func:`save_figures`).

    The t-SNE shows the embeddings the headline accuracy was measured on: a node-level run
    whose probe used reinforcement (``--hops``) is reinforced the same way (the seed's chosen
    K and form; this reloads the graph). Its title names the model, the dataset, the
    embeddings (plain or reinforced, K) and the seed's test figure; its legend names the
    classes (the run's ``--label-names``, or the dataset's own names). The loss curve names
    the model and estimator and marks each seed's best epoch. A seed whose embeddings have
    no map (all the same: a collapsed encoder) gets none, with one warning."""
    from .runs import RunFolder
    check_plot_options(format, dpi, max_points)
    check_plot_dependencies('graphdim plot')
    folder = RunFolder(run_dir)
    out_dir = Path(out_dir) if out_dir else folder.path
    _check_out_dir(out_dir)
    inside = (os.path.abspath(out_dir) + os.sep).startswith(folder._key() + os.sep)
    with folder.lock('graphdim plot') if inside else contextlib.nullcontext():
        return _plot_run(folder, out_dir, max_points, seed, format, dpi)  # one writer


def _check_out_dir(out_dir: Path) -> None:
    """A folder, or a path whose first existing parent is one (created when written)."""
    existing = Path(os.path.abspath(out_dir))
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = 'is' if existing == Path(os.path.abspath(out_dir)) else f'is inside {existing},'
        raise ValueError(f"--out {out_dir} {where} a file, not a folder: give a folder for "
                         f"the pictures (a missing one is created)")


def _plot_run(folder, out_dir: Path, max_points: int, seed, format: str,
              dpi: int) -> List[Path]:
    saved = folder.read_config()
    summary = _results(folder)
    note(f"plot: {_model_name(saved)} on {_dataset_name(saved)} ({saved['kind']} level, "
         f"{len(saved['seeds'])} seed(s)) from {folder.path}")
    # Everything is read and checked first, then drawn, then written: all or nothing.
    losses = {s: [r['loss'] for r in folder.read_log(s)] for s in saved['seeds']}
    losses = {s: values for s, values in losses.items() if values}
    maps = _embeddings_to_map(folder, saved, seed)
    figures, no_map, loaded = [], {}, {}
    try:
        for s, embeddings in maps.items():
            labels = folder.read_labels(embeddings.size(0))  # one per row, or one error line
            try:
                figures.append((_tsne_of_seed(saved, summary, s, embeddings, labels,
                                              max_points, loaded),
                                out_dir / f'tsne_seed{s}.{format}'))
            except NoMapError as problem:
                no_map[s] = str(problem)
        if losses:
            figures.append((_loss_of_run(saved, summary, losses), out_dir / f'loss.{format}'))
    except BaseException:
        for figure, _ in figures:
            _pyplot().close(figure)
        raise
    why = '; '.join(f"seed {s}: {problem}" for s, problem in no_map.items())
    if not figures and why:
        raise ValueError(f"nothing to draw for {folder.path}: no t-SNE map ({why}) and no "
                         f"loss log")
    if not figures:
        raise FileNotFoundError(f"{folder.path} holds neither embeddings nor loss logs to "
                                f"plot")
    if why:
        warnings.warn(f"no t-SNE map drawn ({why})", UserWarning, stacklevel=3)
    return _save_new(figures, out_dir, format, dpi)


def _tsne_of_seed(saved: Dict[str, Any], summary: Dict[str, Any], seed: int, embeddings,
                  labels, max_points: int, loaded: Dict[str, Any]):
    """The t-SNE figure of one seed's headline embeddings, its title naming them."""
    run = _result_runs(summary).get(seed, {})
    embeddings, kind = _headline_embeddings(saved, run, embeddings, loaded)
    lines = [f"{_literal(_model_name(saved))} on {_literal(_dataset_name(saved))}, seed {seed}",
             f"t-SNE of {kind} {embeddings.size(1)}-d "
             f"{ROWS.get(saved['kind'], 'embeddings')}",
             _score(saved, run)]
    return tsne_figure(embeddings, labels, '\n'.join(filter(None, lines)),
                       max_points=max_points, class_names=_class_names(saved, summary))


def _loss_of_run(saved: Dict[str, Any], summary: Dict[str, Any], losses: Dict[int, list]):
    """The loss curves of the run's seeds, each one's best epoch marked."""
    runs = _result_runs(summary)
    best = {s: runs[s]['best_epoch'] for s in losses
            if isinstance(runs.get(s, {}).get('best_epoch'), int)}
    estimator = saved['config'].get('estimator')
    title = f"{_literal(_model_name(saved))} on {_literal(_dataset_name(saved))}: training " \
            f"loss" + (f" ({_literal(estimator)} estimator)" if estimator else '')
    return loss_figure(losses, title, best)


def _save_new(figures, out_dir: Path, format: str, dpi: int) -> List[Path]:
    """:func:`save_figures`; folders made for them are removed again if they fail."""
    missing = [Path(os.path.abspath(out_dir))]  # the folders to be made, deepest first
    while not missing[-1].exists() and missing[-1] != missing[-1].parent:
        missing.append(missing[-1].parent)
    try:
        return save_figures(figures, format, dpi)
    except BaseException:
        for folder in missing[:-1]:  # (the last one existed)
            with contextlib.suppress(OSError):
                folder.rmdir()  # empty only: never a file someone else put there
        raise


def _embeddings_to_map(folder, saved: Dict[str, Any], seed) -> Dict[int, Any]:
    """The embeddings of the seeds to map, by seed: the first seed's where it has them (the
    default), the chosen seed's, or every seed's that has them (``'all'``)."""
    seeds = saved['seeds']
    if seed is None or seed == 'all':
        chosen = seeds if seed == 'all' else seeds[:1]
        maps = {s: folder.read_embeddings(s) for s in chosen}
        return {s: e for s, e in maps.items() if e is not None}
    asked = seed
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        seed = None
    if seed not in seeds:
        raise ValueError(f"--seed must be a seed of the run ({', '.join(map(str, seeds))}) "
                         f"or all; got {str(asked)[:40]!r}")
    embeddings = folder.read_embeddings(seed)
    if embeddings is None:
        raise FileNotFoundError(f"{folder.embeddings_path(seed)} is missing: seed {seed} has "
                                f"no saved embeddings to map")
    return {seed: embeddings}


def _results(folder) -> Dict[str, Any]:
    """The run's ``results.json`` (empty for an unfinished run or an unreadable file: the
    plots then name no accuracy)."""
    try:
        summary = json.loads(folder.results_path.read_text())
    except (OSError, ValueError):
        return {}
    return summary if isinstance(summary, dict) else {}


def _result_runs(summary: Dict[str, Any]) -> Dict[int, Dict[str, Any]]:
    """The per-seed figures of a run's summary, by seed."""
    runs = summary.get('runs', [])
    return {run['seed']: run for run in runs if isinstance(run, dict)
            and isinstance(run.get('seed'), int)} if isinstance(runs, list) else {}


def _class_names(saved: Dict[str, Any], summary: Dict[str, Any]) -> Optional[Sequence[str]]:
    """The classes' names: those the run was given (``--label-names``, kept in its summary),
    else the named dataset's own, else None ("class <id>")."""
    names = summary.get('class_names')
    if isinstance(names, list) and all(isinstance(n, str) and len(n) <= 200 for n in names):
        return names  # (a changed file's other values are not names: not shown)
    config = saved['config']
    return None if config.get('graph') else dataset_class_names(config.get('dataset', ''))


def _model_name(saved: Dict[str, Any]) -> str:
    config = saved['config']
    if saved['kind'] == 'image':
        return f"image DIM ({config.get('mode', '')})".replace(' ()', '')
    from .graph import models as _models  # noqa: F401  (registers the models)
    from .registry import model_entry
    try:
        return model_entry(saved['kind'], config.get('model')).printed_name
    except (ValueError, KeyError, TypeError):
        return str(config.get('model') or saved['kind'])


def _dataset_name(saved: Dict[str, Any]) -> str:
    graph = saved['config'].get('graph')
    return Path(graph).name if graph else str(saved['config'].get('dataset', ''))


def reinforcement_name(hops: int, mode: str) -> str:
    """``plain`` or ``reinforced (z + A^K z, K=2)``: which embeddings a figure or file holds."""
    if not hops:
        return 'plain'
    return f"reinforced ({'z + A^K z' if mode == 'add' else 'A^K z'}, K={hops})"


def _headline_embeddings(saved: Dict[str, Any], run: Dict[str, Any], embeddings,
                         loaded: Dict[str, Any]) -> Tuple[Any, str]:
    """The embeddings the seed's test figure was measured on, and their name; ``loaded``
    keeps the graph once loaded (one load for every seed)."""
    hops, mode = run.get('hops', 0), run.get('reinforcement', 'add')
    if saved['kind'] != 'node' or not isinstance(hops, int) or hops <= 0:
        return embeddings, 'plain'
    from .data.provenance import check_recorded_inputs
    from .experiments.node import NodeConfig, load_config_graph
    from .graph.reinforcement import reinforce
    if 'data' not in loaded:
        check_recorded_inputs(saved, "the run's config.json", ('graph', 'features', 'labels'))
        config = NodeConfig.from_dict(saved['config'])
        with waiting(f"loading {_dataset_name(saved)} to reinforce the embeddings"):
            loaded['data'] = load_config_graph(config).data
    data = loaded['data']
    form = r'$z + \hat{A}^{K} z$' if mode == 'add' else r'$\hat{A}^{K} z$'  # mathtext
    return (reinforce(embeddings, data.edge_index, hops, getattr(data, 'edge_weight', None),
                      mode=mode), f"reinforced ({form}, K={hops})")


def _score(saved: Dict[str, Any], run: Dict[str, Any]) -> str:
    """The seed's headline test figure as the summary states it, or ''."""
    if isinstance(run.get('test_roc_auc'), (int, float)):
        return f"test ROC-AUC {run['test_roc_auc']:.4f} (probe chosen on valid)"
    if not isinstance(run.get('test_acc'), (int, float)):
        return ''
    probe = {'node': 'logistic-regression probe',
             'graph': f"SVM, {saved['config'].get('folds', 10)}-fold CV",
             'image': 'linear probe on Y'}.get(saved['kind'], 'probe')
    return f"test accuracy {run['test_acc']:.2f} % ({probe})"
