"""What ``graphdim tune`` writes into its folder (``--out DIR``): ``best_config.json``
(``graphdim train --config`` runs it), ``trials.csv``, ``summary.json``, ``history.png`` and
``importances.png`` (Optuna's matplotlib plots). Written atomically; a folder holding a
search's outputs is refused unless ``overwrite``."""
import csv
import io
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Tuple

from ..registry import flat_options
from ..runtime import atomic_write_files
from .node import NodeConfig
from .tune import FINAL_FIRST_SEED, TuneResult
from .tune_space import choice_label, decoded


# What a search writes into its folder (--out DIR); only these are ever replaced.
TUNE_FILES = ('best_config.json', 'trials.csv', 'summary.json', 'history.png',
              'importances.png')


def check_tune_folder(out: str, overwrite: bool = False) -> None:
    """Refuse, before the search, a folder holding a search's outputs (unless ``overwrite``)
    or a path that is not a folder: nothing is replaced silently."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder")
    held = [name for name in TUNE_FILES if (folder / name).exists()]
    if held and not overwrite:
        raise ValueError(f"--out {out} holds the outputs of a search ({', '.join(held)}): "
                         f"give another --out DIR, or --overwrite to replace them")


def best_config_values(config: NodeConfig) -> Dict[str, Any]:
    """The options of ``config`` as ``graphdim train --config FILE`` reads them (flat, without
    ``resume``: where a run writes is the command line's choice alone)."""
    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in flat_options(asdict(config)).items() if k != 'resume'}


def trials_rows(study, space) -> List[List[Any]]:
    """The study's trials as rows (a header first): number, state, value, seconds, the
    validation accuracy of each seed, and the options tried."""
    rows = [['number', 'state', 'val_acc', 'seconds', 'val_acc_per_seed', *space]]
    for trial in study.get_trials(deepcopy=False):
        seconds = trial.duration.total_seconds() if trial.duration else None
        values = decoded(space, trial.params)
        rows.append([trial.number, trial.state.name, trial.value, seconds,
                     ' '.join(f"{a:.2f}" for a in trial.user_attrs.get('val_acc_per_seed', [])),
                     *(choice_label(values.get(name, '')) for name in space)])
    return rows


def tune_summary(result: TuneResult) -> Dict[str, Any]:
    """``summary.json``: the best trial, its recipe, the split, the final run's summary."""
    best = result.study.best_trial
    return {'study': result.study.study_name, 'best_trial': best.number,
            'best_val_acc': best.value, 'params': decoded(result.space, best.params),
            'split': result.split, 'final_first_seed': FINAL_FIRST_SEED,
            'final': result.final.to_json() if result.final is not None else None}


def write_tune_outputs(out: str, result: TuneResult,
                       overwrite: bool = False) -> Tuple[List[Path], List[str]]:
    """Write :data:`TUNE_FILES` into ``out``; ``(paths written, notes on what was not)``.
    Checked again first: another search may have written there since it began."""
    check_tune_folder(out, overwrite)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    table = io.StringIO()
    csv.writer(table).writerows(trials_rows(result.study, result.space))
    texts = {'best_config.json': json.dumps(best_config_values(result.best_config), indent=2)
             + '\n', 'trials.csv': table.getvalue(),
             'summary.json': json.dumps(tune_summary(result), indent=2) + '\n'}
    atomic_write_files([(folder / name, 'w', lambda file, text=text: file.write(text))
                        for name, text in texts.items()])
    written, notes = [folder / name for name in texts], []
    try:
        import matplotlib
    except ImportError:
        return written, ["history.png and importances.png not drawn: they need matplotlib "
                         "(pip install 'graphdim[plot]')"]
    matplotlib.use('Agg')  # files only, no display needed
    completed = sum(t.state.name == 'COMPLETE' for t in result.study.get_trials(deepcopy=False))
    for name, draw, enough in (('history.png', 'plot_optimization_history', 1),
                               ('importances.png', 'plot_param_importances', 2)):
        if completed < enough:  # importances compare the completed trials' values
            notes.append(f"{name} not drawn: it needs {enough} completed trials; the study "
                         f"has {completed}")
            continue
        written.append(_draw(result.study, draw, folder / name))
    return written, notes


def _draw(study, plot: str, path: Path) -> Path:
    import warnings
    import matplotlib.pyplot as plt
    import optuna.visualization.matplotlib as optuna_plots
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # Optuna's "experimental" warning for its matplotlib plots
        axes = getattr(optuna_plots, plot)(study)
    figure = axes.figure
    figure.set_size_inches(8, 5)
    figure.tight_layout()
    atomic_write_files([(path, 'wb', lambda file: figure.savefig(file, format='png', dpi=120))])
    plt.close(figure)
    return path
