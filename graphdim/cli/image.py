"""``graphdim image``: train image DIM, probe its features against baselines, print a summary."""
import json
from dataclasses import fields

from ..data.images import IMAGE_DATASETS
from ..estimators import MEASURES
from ..experiments.image import PROBES, ImageConfig, run_image_experiment
from ..image.dim import MODES
from ..eval import FEATURES
from .common import add_config_options

_DEFAULTS = {f.name: f.default for f in fields(ImageConfig)}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        'image', help='train image DIM and probe its features',
        description='Train Deep InfoMax on images (DIM(L), DIM(G) or both), then probe the '
                    'frozen features (linear / 200-unit MLP; choices on a validation split '
                    'of the training images) beside the same probes on raw pixels and on '
                    'the encoder at random initialisation.')
    p.add_argument('--dataset', default=_DEFAULTS['dataset'], choices=IMAGE_DATASETS,
                   help='mnist (local .npz copy) or, with torchvision installed, cifar10, '
                        'cifar100, stl10')
    p.add_argument('--root', default=None,
                   help='local data root holding images/mnist/{train,test}.npz '
                        '(default: $GRAPHDIM_DATA)')
    p.add_argument('--mode', default=_DEFAULTS['mode'], choices=list(MODES),
                   help='local: DIM(L) (alpha 0, beta 1, gamma 0.1); global: DIM(G) '
                        '(1, 0, 1); local+global: (0.5, 1, 0.1)')
    p.add_argument('--estimator', default=_DEFAULTS['estimator'], choices=MEASURES)
    for name, what in (('alpha', 'global MI'), ('beta', 'local MI'), ('gamma', 'prior')):
        p.add_argument(f'--{name}', type=float, default=None,
                       help=f'weight of the {what} term (default: the mode\'s)')
    p.add_argument('--mi-units', type=int, default=_DEFAULTS['mi_units'],
                   help='width of the critic heads (default 256; DIM\'s code: 2048)')
    p.add_argument('--out-dim', type=int, default=_DEFAULTS['out_dim'],
                   help='size of the representation Y (default 64)')
    p.add_argument('--batch-size', type=int, default=_DEFAULTS['batch_size'])
    p.add_argument('--lr', type=float, default=_DEFAULTS['lr'])
    p.add_argument('--epochs', type=int, default=_DEFAULTS['epochs'])
    p.add_argument('--train-size', type=int, default=None,
                   help='train DIM on this many training images (default: all outside the '
                        'validation set)')
    p.add_argument('--val-size', type=int, default=_DEFAULTS['val_size'],
                   help='validation images held out of the training set')
    p.add_argument('--probe-train-size', type=int, default=_DEFAULTS['probe_train_size'],
                   help='training images the probes are fitted on (default 10000)')
    p.add_argument('--probes', nargs='+', default=list(_DEFAULTS['probes']), choices=PROBES,
                   help='linear (always run: the headline) and/or mlp (200 hidden units)')
    p.add_argument('--features', nargs='+', default=list(_DEFAULTS['features']),
                   choices=FEATURES, help='encoder outputs to probe (y always)')
    p.add_argument('--mlp-epochs', type=int, default=_DEFAULTS['mlp_epochs'])
    p.add_argument('--no-baselines', dest='baselines', action='store_false',
                   help='skip the raw-pixel and random-encoder probes')
    p.add_argument('--seeds', type=int, default=_DEFAULTS['seeds'], help='number of seeds')
    p.add_argument('--seed', type=int, default=_DEFAULTS['seed'], help='first seed')
    p.add_argument('--device', default='auto', help="cpu, cuda, cuda:1, or auto (default)")
    p.add_argument('--no-download', dest='download', action='store_false',
                   help='fail instead of downloading a missing torchvision dataset')
    p.add_argument('--out', default=None, metavar='DIR',
                   help='write config, results, model state and the loss log here')
    p.add_argument('--json', action='store_true',
                   help='print the summary as one JSON object on the last line')
    p.add_argument('--quiet', action='store_true', help='no progress bar')
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
    values = {f.name: getattr(args, f.name) for f in fields(ImageConfig) if hasattr(args, f.name)}
    values['probes'], values['features'] = tuple(values['probes']), tuple(values['features'])
    summary = run_image_experiment(ImageConfig.from_dict(values), progress=not args.quiet,
                                   out_dir=args.out)
    _print_image_summary(summary)
    if args.json:
        print(json.dumps(summary))
