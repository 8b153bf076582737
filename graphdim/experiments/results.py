"""Typed results of a run: what each seed's probes scored, and the figures over the seeds.

The probe of one set of embeddings is a *scores* object of its level
(:mod:`graphdim.experiments.scores`: :class:`NodeScores`, :class:`GraphScores`,
:class:`ImageScores`, re-exported here). A seed's :class:`SeedResult` holds the trained
encoder's scores, the baselines' scores by name
(``'random_init'``: the untrained encoder; ``'training_free'``: the raw features propagated;
``'raw_pixels'`` and ``'random_encoder'`` for images) and its training's figures. A run's
:class:`RunSummary` holds the seeds' results, the figures over the seeds (a
:class:`MeanStd` per figure, for the trained encoder and for each baseline) and what the
level reports about its data.

``results.json`` and ``--json`` are :meth:`RunSummary.to_json`, read back by
:meth:`RunSummary.from_json`: the JSON's keys (``test_acc``, ``random_init_test_acc_mean``,
...) are spelt here and nowhere else. Reading is lenient: a value of the wrong type (a file
changed by hand) reads as None, never as an error, and its reader decides.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .config import mean_std
from .scores import (SCORES, GraphScores, ImageScores, NodeScores, Scores,  # noqa: F401
                     json_int, json_number, json_text)

PARTS = ('mean', 'std', 'seed_std')


@dataclass(frozen=True)
class MeanStd:
    """A figure over the seeds (or folds): its mean and the spreads reported with it.
    ``parts`` are those the JSON holds, of ``mean``, ``std`` and ``seed_std`` (the standard
    deviation of the seeds' means where ``std`` is over every fold of every seed)."""
    mean: Optional[float]
    std: Optional[float] = None
    seed_std: Optional[float] = None
    parts: Tuple[str, ...] = ('mean', 'std')

    @classmethod
    def of(cls, values, seed_std: Optional[float] = None) -> 'MeanStd':
        """Mean and sample standard deviation of ``values`` (:func:`mean_std`)."""
        mean, std = mean_std(values)
        return cls(mean, std, seed_std, ('mean', 'std', 'seed_std') if seed_std is not None
                   else ('mean', 'std'))

    @classmethod
    def mean_of(cls, values) -> 'MeanStd':
        """The mean of ``values`` alone (no spread reported)."""
        return cls(mean_std(values)[0], parts=('mean', ))

    def to_json(self, name: str) -> Dict[str, Any]:
        return {f'{name}_{part}': getattr(self, part) for part in self.parts}

    @classmethod
    def from_json(cls, record: Dict[str, Any], name: str) -> Optional['MeanStd']:
        parts = tuple(part for part in PARTS if f'{name}_{part}' in record)
        if not parts:
            return None
        return cls(**{part: json_number(record[f'{name}_{part}']) for part in parts}, parts=parts)


@dataclass
class SeedResult:
    """One seed of a run: the trained encoder's ``scores``, the ``baselines``' scores by
    name, and its training (``epochs`` run, the ``best_epoch`` kept and its loss, seconds
    training and in all; the per-epoch ``epoch_seconds`` and ``losses`` are not in the
    JSON: the seed's ``log.jsonl`` holds them)."""
    seed: int
    scores: Scores
    baselines: Dict[str, Scores] = field(default_factory=dict)
    epochs: Optional[int] = None
    best_epoch: Optional[int] = None
    final_loss: Optional[float] = None
    train_seconds: Optional[float] = None
    seconds: Optional[float] = None
    epoch_seconds: List[float] = field(default_factory=list, repr=False)
    losses: List[float] = field(default_factory=list, repr=False)

    TRAINING = ('epochs', 'best_epoch', 'final_loss', 'train_seconds', 'seconds')

    def to_json(self) -> Dict[str, Any]:
        record: Dict[str, Any] = {'seed': self.seed}
        for name, scores in self.baselines.items():
            record.update(scores.to_json(name))
        record.update(self.scores.to_json())
        record.update({key: getattr(self, key) for key in self.TRAINING})
        return record

    @classmethod
    def from_json(cls, record: Dict[str, Any], kind: str) -> 'SeedResult':
        scores = SCORES[kind]
        baselines = {name: scores.from_json(record, name) for name in scores.BASELINES}
        return cls(record.get('seed'), scores.from_json(record),
                   {name: found for name, found in baselines.items() if found is not None},
                   json_int(record.get('epochs')), json_int(record.get('best_epoch')),
                   *(json_number(record.get(key)) for key in cls.TRAINING[2:]))


@dataclass
class RunSummary:
    """A run's results: its ``runs`` (one :class:`SeedResult` per seed), ``figures`` over the
    seeds (``figures[whose][figure]``: ``whose`` is '' for the trained encoder, else a
    baseline's name; ``figure`` a scores' figure, ``'test_acc'``, ``'plain_test_acc'``,
    ...), ``probe_figures`` (image runs: every probe's test accuracy, by whose and probe),
    ``facts`` (what the level reports beside: device, split, sizes, protocol, ...), the run's
    timing, its ``config`` and the package ``versions``; ``out_dir`` where it was written."""
    kind: str
    dataset: Optional[str] = None
    seeds: List[int] = field(default_factory=list)
    figures: Dict[str, Dict[str, MeanStd]] = field(default_factory=dict)
    probe_figures: Dict[str, Dict[str, MeanStd]] = field(default_factory=dict)
    facts: Dict[str, Any] = field(default_factory=dict)
    runs: List[SeedResult] = field(default_factory=list)
    epochs_mean: Optional[float] = None
    epoch_seconds_median: Optional[float] = None
    train_seconds_total: Optional[float] = None
    seconds_total: Optional[float] = None
    peak_rss_mb: Optional[float] = None
    torch_threads: Optional[int] = None
    config: Dict[str, Any] = field(default_factory=dict)
    versions: Dict[str, Any] = field(default_factory=dict)
    out_dir: Optional[str] = None

    TIMING = ('epochs_mean', 'epoch_seconds_median', 'train_seconds_total', 'seconds_total',
              'peak_rss_mb', 'torch_threads')

    def figure(self, name: str, whose: str = '') -> Optional[MeanStd]:
        """The figure ``name`` over the seeds, of the trained encoder or of a baseline."""
        return self.figures.get(whose, {}).get(name)

    def run(self, seed: int) -> Optional[SeedResult]:
        return next((run for run in self.runs if run.seed == seed), None)

    def to_json(self) -> Dict[str, Any]:
        """The summary as ``results.json`` holds it (and ``--json`` prints it, with
        ``out_dir``)."""
        record: Dict[str, Any] = {'dataset': self.dataset, 'seeds': self.seeds}
        if self.kind == 'image':  # the baselines nested under their names
            record.update(_figures_json(self.figures.get('', {})))
            record['probes'] = _probes_json(self.probe_figures.get('', {}))
            record['baselines'] = {
                whose: {**_figures_json(figures),
                        'probes': _probes_json(self.probe_figures.get(whose, {}))}
                for whose, figures in self.figures.items() if whose}
        else:
            for whose, figures in self.figures.items():
                record.update(_figures_json(figures, f'{whose}_' if whose else ''))
        record.update(self.facts)
        record.update({key: getattr(self, key) for key in self.TIMING})
        record.update(config=self.config, versions=self.versions,
                      runs=[run.to_json() for run in self.runs])
        if self.out_dir is not None:
            record['out_dir'] = self.out_dir
        return record

    @classmethod
    def from_json(cls, record: Dict[str, Any], kind: str) -> 'RunSummary':
        """A summary read back from its JSON (``kind``: the run's level, from its
        ``config.json``); values of the wrong type read as None, per-seed entries that are
        not objects with a whole-number seed are left out."""
        runs = record.get('runs')
        seeds = record.get('seeds')
        summary = cls(kind, json_text(record.get('dataset')),
                      seeds if isinstance(seeds, list) else [],
                      runs=[SeedResult.from_json(run, kind) for run in
                            (runs if isinstance(runs, list) else [])
                            if isinstance(run, dict) and json_int(run.get('seed')) is not None],
                      **{key: json_number(record.get(key)) for key in cls.TIMING},
                      config=_dict(record.get('config')), versions=_dict(record.get('versions')),
                      out_dir=json_text(record.get('out_dir')))
        _read_figures(summary, record)
        known = {'dataset', 'seeds', 'config', 'versions', 'runs', 'out_dir', *cls.TIMING,
                 *(('probes', 'baselines') if kind == 'image' else ())}
        for whose, figures in summary.figures.items():
            known.update(_figures_json(figures, f'{whose}_' if whose else ''))
        summary.facts = {key: value for key, value in record.items() if key not in known}
        return summary


def _dict(value) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _figures_json(figures: Dict[str, MeanStd], prefix: str = '') -> Dict[str, Any]:
    return {key: value for name, figure in figures.items()
            for key, value in figure.to_json(prefix + name).items()}


def _probes_json(figures: Dict[str, MeanStd]) -> Dict[str, Any]:
    return {probe: figure.to_json('test_acc') for probe, figure in figures.items()}


# The figures a level's summary gives over the seeds (read back by name).
FIGURES = {'node': ('test_acc', 'val_acc', 'plain_test_acc'),
           'graph': ('test_acc', 'logreg_acc', 'val_acc', 'test_roc_auc', 'valid_roc_auc'),
           'image': ('test_acc', 'val_acc')}


def _read_figures(summary: RunSummary, record: Dict[str, Any]) -> None:
    """``summary``'s figures from the JSON ``record`` of its level."""
    sources: Sequence[Tuple[str, Dict[str, Any], str]] = [('', record, '')]
    if summary.kind == 'image':
        baselines = _dict(record.get('baselines'))
        sources += [(whose, _dict(baselines.get(whose)), '')
                    for whose in ImageScores.BASELINES if whose in baselines]
        for whose, source, _ in sources:
            probes = _dict(source.get('probes'))
            summary.probe_figures[whose] = {
                probe: figure for probe, figure in
                ((p, MeanStd.from_json(_dict(v), 'test_acc')) for p, v in probes.items())
                if figure is not None}
    else:
        sources += [(whose, record, f'{whose}_') for whose in SCORES[summary.kind].BASELINES]
    for whose, source, prefix in sources:
        figures = {name: figure for name in FIGURES[summary.kind]
                   if (figure := MeanStd.from_json(source, prefix + name)) is not None}
        if figures or not whose:
            summary.figures[whose] = figures
