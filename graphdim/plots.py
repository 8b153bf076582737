"""Pictures of a run: a t-SNE map of the embeddings coloured by label, and the loss curve.

Needs matplotlib (the ``plot`` extra) and scikit-learn; both are imported only here.
"""
import contextlib
import importlib
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch

from .progress import note, waiting
from .runs import RunFolder
from .runtime import atomic_write_files


def check_plot_dependencies() -> None:
    """Fail at once, in one line, where plots cannot be drawn (``--plot`` checks this before
    training, as ``--tensorboard`` checks for tensorboard)."""
    for module in ('matplotlib', 'sklearn.manifold'):
        try:
            importlib.import_module(module)
        except ImportError:
            raise ValueError(f"--plot needs {module.split('.')[0]}, which is not installed: "
                             f"pip install 'graphdim[plot]' (or drop --plot)") from None


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'graphdim[plot]'") from None
    matplotlib.use('Agg')  # files only, no display needed
    import matplotlib.pyplot as plt
    return plt


# Class names where a dataset's label order is fixed and known; other labels are shown as
# "class <id>".
CLASS_NAMES = {
    'cifar10': ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse',
                'ship', 'truck'),
}


def plot_embeddings(embeddings: torch.Tensor, labels: Optional[torch.Tensor], path,
                    title: str = '', seed: int = 0, max_points: int = 5000,
                    class_names: Optional[Sequence[str]] = None) -> Path:
    """A 2-D t-SNE of ``embeddings`` coloured by ``labels`` (a legend names each class:
    ``class_names[id]`` or ``class <id>``), saved as a PNG at ``path``. At most
    ``max_points`` rows, a seeded sample."""
    from sklearn.manifold import TSNE
    plt = _pyplot()
    generator = torch.Generator().manual_seed(seed)
    keep = torch.randperm(embeddings.size(0), generator=generator)[:max_points]
    tsne = TSNE(n_components=2, init='pca', random_state=seed, perplexity=min(
        30.0, max(2.0, (keep.numel() - 1) / 3)))
    with waiting(f"t-SNE of {keep.numel()} x {embeddings.size(1)} embeddings"):
        points = tsne.fit_transform(embeddings[keep].float().numpy())
    figure, axes = plt.subplots(figsize=(6.4, 6))
    size = min(40.0, max(3.0, 4000.0 / keep.numel()))  # visible dots on small graphs
    if labels is None:
        axes.scatter(points[:, 0], points[:, 1], s=size, color='tab:blue')
    else:
        ids = labels[keep].numpy()
        classes = [c for c in sorted(set(ids.tolist())) if c >= 0]
        cmap = plt.get_cmap('tab10' if len(classes) <= 10 else 'tab20')
        for i, c in enumerate(classes):
            mine = ids == c
            name = class_names[c] if class_names is not None and c < len(class_names) \
                else f'class {c}'
            axes.scatter(points[mine, 0], points[mine, 1], s=size, label=name,
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
    return _save(figure, path, plt)


def plot_losses(losses_by_seed: dict, path, title: str = 'training loss',
                best_epochs: Optional[dict] = None) -> Path:
    """Loss per epoch, one line per seed, saved as a PNG at ``path``; each seed's best
    epoch (the one whose parameters were kept: ``best_epochs[seed]``, else the lowest loss)
    is marked."""
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
    return _save(figure, path, plt)


def _save(figure, path, plt) -> Path:
    path = Path(path)
    figure.tight_layout()
    try:  # a temporary file, then a rename: never a torn PNG (a kill, a full disk)
        atomic_write_files([(path, 'wb', lambda file: figure.savefig(file, format='png',
                                                                      dpi=120))])
    finally:
        plt.close(figure)
    return path


def plot_run(run_dir: Union[str, Path], out_dir: Optional[Union[str, Path]] = None,
             max_points: int = 5000) -> List[Path]:
    """``tsne_seed<s>.png`` for the first seed (where the run saved embeddings; at most
    ``max_points`` rows, a seeded sample) and ``loss.png`` for all seeds of a run of any kind
    (node, graph or image).

    The t-SNE shows the embeddings the headline accuracy was measured on: a node-level run
    whose probe used reinforcement (``--hops``) is reinforced the same way (the seed's chosen
    K and form; this reloads the graph). Its title names the model, the dataset, the
    embeddings (plain or reinforced, K) and the seed's test figure; the loss curve names the
    model and estimator and marks each seed's best epoch."""
    folder = RunFolder(run_dir)
    out_dir = Path(out_dir) if out_dir else folder.path
    inside = (os.path.abspath(out_dir) + os.sep).startswith(folder._key() + os.sep)
    with folder.lock('graphdim plot') if inside else contextlib.nullcontext():
        return _plot_run(folder, out_dir, max_points)  # into the run: one writer at a time


def _plot_run(folder: RunFolder, out_dir: Path, max_points: int) -> List[Path]:
    saved = folder.read_config()
    config, first = saved['config'], saved['seeds'][0]
    runs = _result_runs(folder)
    model, dataset = _model_name(saved), _dataset_name(saved)
    note(f"plot: {model} on {dataset} ({saved['kind']} level, {len(saved['seeds'])} seed(s)) "
         f"from {folder.path}")
    written = []
    embeddings = folder.read_embeddings(first)
    if embeddings is not None:
        run = runs.get(first, {})
        embeddings, kind = _headline_embeddings(saved, run, embeddings)
        lines = [f"{model} on {dataset}, seed {first}",
                 f"t-SNE of {kind} {embeddings.size(1)}-d {_rows(saved['kind'])}"]
        score = _score(saved, run)
        if score:
            lines.append(score)
        labels = folder.read_labels(embeddings.size(0))  # one per row, or one error line
        written.append(plot_embeddings(embeddings, labels, out_dir / f'tsne_seed{first}.png',
                                       '\n'.join(lines), max_points=max_points,
                                       class_names=CLASS_NAMES.get(str(config.get('dataset',
                                                                                  '')).lower())))
    losses = {seed: [r['loss'] for r in folder.read_log(seed)] for seed in saved['seeds']}
    losses = {seed: values for seed, values in losses.items() if values}
    if losses:
        best = {seed: runs[seed]['best_epoch'] for seed in losses
                if isinstance(runs.get(seed, {}).get('best_epoch'), int)}
        estimator = config.get('estimator')
        title = f"{model} on {dataset}: training loss" + (
            f" ({estimator} estimator)" if estimator else '')
        written.append(plot_losses(losses, out_dir / 'loss.png', title, best))
    if not written:
        raise FileNotFoundError(f"{folder.path} holds neither embeddings nor loss logs to "
                                f"plot")
    return written


def _result_runs(folder: RunFolder) -> Dict[int, Dict[str, Any]]:
    """The per-seed figures of the run's ``results.json`` by seed (none for an unfinished
    run or an unreadable file: the plots then name no accuracy)."""
    try:
        runs = json.loads(folder.results_path.read_text()).get('runs', [])
    except (OSError, ValueError, AttributeError):
        return {}
    return {run['seed']: run for run in runs if isinstance(run, dict)
            and isinstance(run.get('seed'), int)} if isinstance(runs, list) else {}


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


def _rows(kind: str) -> str:
    return {'node': 'node embeddings', 'graph': 'graph embeddings',
            'image': 'test-image features (Y)'}.get(kind, 'embeddings')


def _reinforcement(run: Dict[str, Any]) -> Tuple[int, str]:
    hops, mode = run.get('hops', 0), run.get('reinforcement', 'add')
    return (hops if isinstance(hops, int) and hops > 0 else 0), mode


def reinforcement_name(hops: int, mode: str) -> str:
    """``plain`` or ``reinforced (z + A^K z, K=2)``: which embeddings a figure or file holds."""
    if not hops:
        return 'plain'
    return f"reinforced ({'z + A^K z' if mode == 'add' else 'A^K z'}, K={hops})"


def _headline_embeddings(saved: Dict[str, Any], run: Dict[str, Any],
                         embeddings: torch.Tensor) -> Tuple[torch.Tensor, str]:
    """The embeddings the seed's test figure was measured on, and their name."""
    hops, mode = _reinforcement(run)
    if saved['kind'] != 'node' or not hops:
        return embeddings, 'plain'
    from .experiments.node import NodeConfig, load_config_graph
    from .graph.reinforcement import reinforce
    config = NodeConfig.from_dict(saved['config'])
    with waiting(f"loading {_dataset_name(saved)} to reinforce the embeddings (K={hops})"):
        data = load_config_graph(config).data
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
