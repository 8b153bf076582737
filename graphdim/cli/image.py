"""``graphdim image``: train image DIM, probe its features against baselines, print a summary."""
import json

from ..experiments.image import ImageConfig, image_run_summary
from ..experiments.results import RunSummary
from .common import add_config_options, add_output_options
from .options import add_config_arguments, config_from_args


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        'image', help='train image DIM and probe its features',
        description='Train Deep InfoMax on images (DIM(L), DIM(G) or both), then probe the '
                    'frozen features (linear / 200-unit MLP; choices on a validation split '
                    'of the training images) beside the same probes on raw pixels and on '
                    'the encoder at random initialisation.')
    add_config_arguments(p, ImageConfig)
    add_output_options(p, 'write config, results, model state and the loss log here')
    add_config_options(p)
    p.set_defaults(run=run)


def _print_image_summary(summary: RunSummary) -> None:
    config, facts = summary.config, summary.facts
    w, shape = facts['weights'], 'x'.join(map(str, facts['image_shape']))
    print(f"graphdim: image DIM ({facts['mode']}) on {summary.dataset} "
          f"({facts['num_train']} train / {facts['num_test']} test images, {shape}) | "
          f"{config['estimator']}, alpha {w['alpha']:g} beta {w['beta']:g} gamma "
          f"{w['gamma']:g}, mi_units {config['mi_units']} | device {facts['device']}")
    print(f"DIM trained on {facts['train_images']} images for {facts['epochs']} epochs "
          f"(batch {config['batch_size']}, lr {config['lr']:g}); probes: {facts['split']}")
    for run in summary.runs:
        print(f"  seed {run.seed:>3}: linear/y test {run.scores.test_acc:6.2f}  val "
              f"{run.scores.val_acc:6.2f}  ({run.train_seconds:.1f} s training)")
    columns = [('DIM' if not whose else whose.replace('_', ' '), probes)
               for whose, probes in summary.probe_figures.items()]
    rows = sorted({key for _, probes in columns for key in probes})
    print('| probe/features | ' + ' | '.join(name for name, _ in columns) + ' |')
    for key in rows:
        cells = [f"{p[key].mean:.2f} ± {p[key].std:.2f}" if key in p else '-'
                 for _, p in columns]
        print(f"| {key} | " + ' | '.join(cells) + ' |')
    baselines = ', '.join(f"{whose.replace('_', ' ')} {figures['test_acc'].mean:.2f}"
                          for whose, figures in summary.figures.items() if whose)
    accuracy = summary.figure('test_acc')
    print(f"test accuracy (linear probe on Y): {accuracy.mean:.2f} ± {accuracy.std:.2f} % over "
          f"{len(summary.seeds)} seed(s)" + (f"; same probe on {baselines}" if baselines else '')
          + f"; {summary.epoch_seconds_median:.1f} s/epoch (median), peak RSS "
            f"{summary.peak_rss_mb:.0f} MiB")
    if summary.out_dir is not None:
        print(f"wrote {summary.out_dir}")


def run(args) -> None:
    summary = image_run_summary(config_from_args(ImageConfig, args), progress=not args.quiet,
                                out_dir=args.out, overwrite=args.overwrite)
    _print_image_summary(summary)
    if args.json:
        print(json.dumps(summary.to_json()))
