"""``graphdim plot RUN_DIR``: t-SNE of the embeddings by label and the training-loss curve."""
from ..plots import DEFAULT_DPI, DPI_RANGE, PLOT_FORMATS  # (no torch: --help stays quick)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser('plot', help='draw pictures of a run (t-SNE, loss curve)',
                              description='Write tsne_seed<s>.png (embeddings coloured by label) '
                                          'and loss.png (loss per epoch) for a run directory '
                                          'of any kind (node, graph or image); all of them or '
                                          'none. --format pdf or svg for vector figures.')
    p.add_argument('run_dir', help='a directory written by graphdim train --out')
    p.add_argument('--out', help='the folder to write the pictures into (default: RUN_DIR)')
    p.add_argument('--format', default='png', choices=PLOT_FORMATS,
                   help='png (default), or pdf / svg: vector figures for papers')
    p.add_argument('--dpi', type=int, default=DEFAULT_DPI,
                   help=f'resolution of a PNG in dots per inch, {DPI_RANGE[0]} to '
                        f'{DPI_RANGE[1]} (default {DEFAULT_DPI}; pdf and svg are vector)')
    p.add_argument('--seed', default=None, metavar='S|all',
                   help="the seed whose embeddings the t-SNE maps: one of the run's seeds, or "
                        "all (one map per seed); default: the run's first seed")
    p.add_argument('--max-points', type=int, default=5000,
                   help='t-SNE of at most this many embeddings (at least 2), a seeded sample '
                        '(default 5000)')
    p.add_argument('--quiet', action='store_true', help='no progress lines')
    p.set_defaults(run=run)


def run(args) -> None:
    from ..plots import plot_run
    for path in plot_run(args.run_dir, args.out, args.max_points, args.seed, args.format,
                         args.dpi):
        print(f"wrote {path}")
