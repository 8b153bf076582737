"""Per-epoch training logs of a run: JSON lines always, TensorBoard event files on request."""
import json
from pathlib import Path
from typing import Union

from .runtime import atomic_write_text


def epoch_records(history, lr: float):
    """One dict per epoch of a :class:`~graphdim.train.FitResult`: loss, seconds, lr."""
    return [{'epoch': epoch, 'loss': loss, 'seconds': seconds, 'lr': lr}
            for epoch, (loss, seconds) in enumerate(
                zip(history.losses, history.epoch_seconds), start=1)]


def write_epoch_log(history, lr: float, path: Union[str, Path]) -> Path:
    """``log.jsonl``: one JSON object per epoch (what ``graphdim plot`` reads)."""
    atomic_write_text(''.join(json.dumps(r) + '\n' for r in epoch_records(history, lr)), path)
    return Path(path)


def write_tensorboard(history, lr: float, log_dir: Union[str, Path]) -> Path:
    """TensorBoard scalars ``loss``, ``epoch_seconds`` and ``lr`` per epoch in ``log_dir``.

    Needs the ``tensorboard`` package (``pip install tensorboard``); without it this raises
    an ``ImportError`` that says so.
    """
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ImportError("TensorBoard logs need the tensorboard package: "
                          "pip install tensorboard (or drop --tensorboard)") from None
    with SummaryWriter(log_dir=str(log_dir)) as writer:
        for record in epoch_records(history, lr):
            writer.add_scalar('loss', record['loss'], record['epoch'])
            writer.add_scalar('epoch_seconds', record['seconds'], record['epoch'])
            writer.add_scalar('lr', record['lr'], record['epoch'])
    return Path(log_dir)
