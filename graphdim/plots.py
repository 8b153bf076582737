"""Pictures of a run: a t-SNE map of the embeddings coloured by label, and the loss curve.

Needs matplotlib (the ``plot`` extra) and scikit-learn; both are imported only here.
"""
from pathlib import Path
from typing import List, Optional, Union

import torch

from .runs import RunFolder


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'graphdim[plot]'") from None
    matplotlib.use('Agg')  # files only, no display needed
    import matplotlib.pyplot as plt
    return plt


def plot_embeddings(embeddings: torch.Tensor, labels: Optional[torch.Tensor], path,
                    title: str = '', seed: int = 0, max_points: int = 5000) -> Path:
    """A 2-D t-SNE of ``embeddings`` coloured by ``labels``, saved as a PNG at ``path``."""
    from sklearn.manifold import TSNE
    plt = _pyplot()
    generator = torch.Generator().manual_seed(seed)
    keep = torch.randperm(embeddings.size(0), generator=generator)[:max_points]
    points = TSNE(n_components=2, init='pca', random_state=seed, perplexity=min(
        30.0, max(2.0, (keep.numel() - 1) / 3))).fit_transform(embeddings[keep].numpy())
    figure, axes = plt.subplots(figsize=(6, 6))
    colours = None if labels is None else labels[keep].numpy()
    size = min(40.0, max(3.0, 4000.0 / keep.numel()))  # visible dots on small graphs
    axes.scatter(points[:, 0], points[:, 1], c=colours, cmap='tab10', s=size)
    axes.set_title(title or f't-SNE of {embeddings.size(1)}-d embeddings')
    axes.set_xticks([]), axes.set_yticks([])
    return _save(figure, path, plt)


def plot_losses(losses_by_seed: dict, path, title: str = 'training loss') -> Path:
    """Loss per epoch, one line per seed, saved as a PNG at ``path``."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    for seed, losses in losses_by_seed.items():
        axes.plot(range(1, len(losses) + 1), losses, label=f'seed {seed}')
    axes.set_xlabel('epoch'), axes.set_ylabel('loss'), axes.set_title(title)
    if len(losses_by_seed) <= 10:
        axes.legend()
    return _save(figure, path, plt)


def _save(figure, path, plt) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def plot_run(run_dir: Union[str, Path], out_dir: Optional[Union[str, Path]] = None,
             max_points: int = 5000) -> List[Path]:
    """``tsne_seed<s>.png`` for the first seed (where the run saved embeddings; at most
    ``max_points`` rows, a seeded sample) and ``loss.png`` for all seeds of a run of any kind
    (node, graph or image)."""
    folder = RunFolder(run_dir)
    out_dir = Path(out_dir) if out_dir else folder.path
    saved = folder.read_config()
    first = saved['seeds'][0]
    written = []
    embeddings = folder.read_embeddings(first)
    if embeddings is not None:
        title = f"{saved['config'].get('dataset', '')} embeddings, seed {first}"
        written.append(plot_embeddings(embeddings, folder.read_labels(),
                                       out_dir / f'tsne_seed{first}.png', title,
                                       max_points=max_points))
    losses = {seed: [r['loss'] for r in folder.read_log(seed)] for seed in saved['seeds']}
    losses = {seed: values for seed, values in losses.items() if values}
    if losses:
        written.append(plot_losses(losses, out_dir / 'loss.png'))
    if not written:
        raise FileNotFoundError(f"{folder.path} holds neither embeddings nor loss logs to "
                                f"plot")
    return written
