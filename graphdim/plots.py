"""Pictures of a run: a t-SNE map of the embeddings coloured by label, and the loss curve.

Needs matplotlib (the ``plot`` extra) and scikit-learn; both, and torch, are imported only
where a picture is drawn, so ``graphdim plot --help`` loads none of them. PNG, or PDF and SVG
(vector: the dots are paths, not an image) for papers. The pictures themselves are drawn by
:mod:`graphdim.plot_figures`; a run's results are read typed
(:class:`~graphdim.experiments.results.RunSummary`), and its maps show the embeddings its
probe scored (the run folder keeps them).
"""
from __future__ import annotations

import contextlib
import json
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

from .plot_figures import (COLLAPSED, DEFAULT_DPI, DPI_RANGE, PLOT_FORMATS,  # noqa: F401
                           SMALL_MAP, NoMapError, _literal, _pyplot, check_plot_dependencies,
                           check_plot_options, embedding_problem, loss_figure, save_figures,
                           tsne_figure, tsne_points)
from .progress import note, waiting

if TYPE_CHECKING:  # (imported where read: graphdim plot --help loads no torch)
    from .experiments.results import RunSummary, SeedResult

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


def plot_run(run_dir: Union[str, Path], out_dir: Optional[Union[str, Path]] = None,
             max_points: int = 5000, seed: Union[int, str, None] = None,
             format: str = 'png', dpi: int = DEFAULT_DPI) -> List[Path]:
    """``tsne_seed<s>.<format>`` for the run's first seed (``seed``: another seed of the run,
    or ``'all'``: one map per seed with embeddings; at most ``max_points`` rows, a seeded
    sample) and ``loss.<format>`` for all seeds of a run of any kind (node, graph or image).
    Every picture is written, or none (:func:`graphdim.plot_figures.save_figures`).

    The t-SNE shows the embeddings the headline accuracy was measured on: a node-level run
    whose probe used reinforcement (``--hops``) shows the reinforced embeddings its probe
    scored (``seed_<s>/scored_embeddings.pt``; a run written before they were kept is
    reinforced again: the seed's chosen K and form, reloading the graph). Its title names
    the model, the dataset, the embeddings (plain or reinforced, K) and the seed's test
    figure; its legend names the classes (the run's ``--label-names``, or the dataset's own
    names). The loss curve names the model and estimator and marks each seed's best epoch. A
    seed whose embeddings have no map (all the same: a collapsed encoder) gets none, with
    one warning."""
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
    summary = _results(folder, saved['kind'])
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
                figures.append((_tsne_of_seed(folder, saved, summary, s, embeddings, labels,
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


def _tsne_of_seed(folder, saved: Dict[str, Any], summary: RunSummary, seed: int, embeddings,
                  labels, max_points: int, loaded: Dict[str, Any]):
    """The t-SNE figure of one seed's headline embeddings, its title naming them."""
    run = summary.run(seed)
    embeddings, kind = _headline_embeddings(folder, saved, seed, run, embeddings, loaded)
    lines = [f"{_literal(_model_name(saved))} on {_literal(_dataset_name(saved))}, seed {seed}",
             f"t-SNE of {kind} {embeddings.size(1)}-d "
             f"{ROWS.get(saved['kind'], 'embeddings')}",
             _score(saved, run)]
    return tsne_figure(embeddings, labels, '\n'.join(filter(None, lines)),
                       max_points=max_points, class_names=_class_names(saved, summary))


def _loss_of_run(saved: Dict[str, Any], summary: RunSummary, losses: Dict[int, list]):
    """The loss curves of the run's seeds, each one's best epoch marked."""
    runs = {s: summary.run(s) for s in losses}
    best = {s: run.best_epoch for s, run in runs.items()
            if run is not None and run.best_epoch is not None}
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


def _results(folder, kind: str) -> RunSummary:
    """The run's ``results.json``, typed (empty for an unfinished run or an unreadable
    file: the plots then name no accuracy)."""
    from .experiments.results import RunSummary
    try:
        saved = json.loads(folder.results_path.read_text())
    except (OSError, ValueError):
        saved = None
    return RunSummary.from_json(saved if isinstance(saved, dict) else {}, kind)


def _class_names(saved: Dict[str, Any], summary: RunSummary) -> Optional[Sequence[str]]:
    """The classes' names: those the run was given (``--label-names``, kept in its summary),
    else the named dataset's own, else None ("class <id>")."""
    names = summary.facts.get('class_names')
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


def _headline_embeddings(folder, saved: Dict[str, Any], seed: int, run: Optional[SeedResult],
                         embeddings, loaded: Dict[str, Any]) -> Tuple[Any, str]:
    """The embeddings the seed's test figure was measured on, and their name: the plain
    ones, or those its probe scored (reinforced: saved by the run; reinforced again for a
    run written before, ``loaded`` keeping the graph once loaded for every seed)."""
    hops = run.scores.hops if saved['kind'] == 'node' and run is not None else None
    if hops is None or hops <= 0:
        return embeddings, 'plain'
    mode = run.scores.reinforcement or 'add'
    form = r'$z + \hat{A}^{K} z$' if mode == 'add' else r'$\hat{A}^{K} z$'  # mathtext
    scored = folder.read_embeddings(seed, scored=True)
    if scored is not None:
        from .run_checks import _FIX
        if scored.shape != embeddings.shape:
            raise ValueError(f"{folder.embeddings_path(seed, scored=True)} holds "
                             f"{list(scored.shape)} embeddings, not {list(embeddings.shape)} "
                             f"as {folder.embeddings_path(seed)}: {_FIX}")
        return scored, f"reinforced ({form}, K={hops})"
    from .data.provenance import check_recorded_inputs
    from .experiments.node import NodeConfig, load_config_graph
    from .graph.reinforcement import reinforce
    if 'data' not in loaded:
        check_recorded_inputs(saved, "the run's config.json", ('graph', 'features', 'labels'))
        config = NodeConfig.from_dict(saved['config'])
        with waiting(f"loading {_dataset_name(saved)} to reinforce the embeddings"):
            loaded['data'] = load_config_graph(config).data
    data = loaded['data']
    return (reinforce(embeddings, data.edge_index, hops, getattr(data, 'edge_weight', None),
                      mode=mode), f"reinforced ({form}, K={hops})")


def _score(saved: Dict[str, Any], run: Optional[SeedResult]) -> str:
    """The seed's headline test figure as the summary states it, or ''."""
    from .experiments.results import GraphScores
    scores = run.scores if run is not None else None
    if isinstance(scores, GraphScores) and scores.test_roc_auc is not None:
        return f"test ROC-AUC {scores.test_roc_auc:.4f} (probe chosen on valid)"
    if scores is None or scores.test_acc is None:
        return ''
    probe = {'node': 'logistic-regression probe',
             'graph': f"SVM, {saved['config'].get('folds', 10)}-fold CV",
             'image': 'linear probe on Y'}.get(saved['kind'], 'probe')
    return f"test accuracy {scores.test_acc:.2f} % ({probe})"
