"""``graphdim image``: train image DIM, probe its features against baselines, print a summary."""
import json

from ..experiments.image import ImageConfig, run_image_experiment
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


def _print_image_summary(summary) -> None:
    config, w = summary['config'], summary['weights']
    shape = 'x'.join(map(str, summary['image_shape']))
    print(f"graphdim: image DIM ({summary['mode']}) on {summary['dataset']} "
          f"({summary['num_train']} train / {summary['num_test']} test images, {shape}) | "
          f"{config['estimator']}, alpha {w['alpha']:g} beta {w['beta']:g} gamma "
          f"{w['gamma']:g}, mi_units {config['mi_units']} | device {summary['device']}")
    print(f"DIM trained on {summary['train_images']} images for {summary['epochs']} epochs "
          f"(batch {config['batch_size']}, lr {config['lr']:g}); probes: {summary['split']}")
    for run in summary['runs']:
        print(f"  seed {run['seed']:>3}: linear/y test {run['test_acc']:6.2f}  val "
              f"{run['val_acc']:6.2f}  ({run['train_seconds']:.1f} s training)")
    columns = [('DIM', summary['probes'])] + [
        (name.replace('_', ' '), base['probes']) for name, base in summary['baselines'].items()]
    rows = sorted({key for _, probes in columns for key in probes})
    print('| probe/features | ' + ' | '.join(name for name, _ in columns) + ' |')
    for key in rows:
        cells = [f"{p[key]['test_acc_mean']:.2f} ± {p[key]['test_acc_std']:.2f}"
                 if key in p else '-' for _, p in columns]
        print(f"| {key} | " + ' | '.join(cells) + ' |')
    baselines = ', '.join(f"{name.replace('_', ' ')} {b['test_acc_mean']:.2f}"
                          for name, b in summary['baselines'].items())
    print(f"test accuracy (linear probe on Y): {summary['test_acc_mean']:.2f} ± "
          f"{summary['test_acc_std']:.2f} % over {len(summary['seeds'])} seed(s)"
          + (f"; same probe on {baselines}" if baselines else '')
          + f"; {summary['epoch_seconds_median']:.1f} s/epoch (median), peak RSS "
            f"{summary['peak_rss_mb']:.0f} MiB")
    if 'out_dir' in summary:
        print(f"wrote {summary['out_dir']}")


def run(args) -> None:
    summary = run_image_experiment(config_from_args(ImageConfig, args), progress=not args.quiet,
                                   out_dir=args.out, overwrite=args.overwrite)
    _print_image_summary(summary)
    if args.json:
        print(json.dumps(summary))
