"""``graphdim plot RUN_DIR``: t-SNE of the embeddings by label and the training-loss curve."""
from ..plots import plot_run


def add_parser(subparsers) -> None:
    p = subparsers.add_parser('plot', help='draw PNGs of a run (t-SNE, loss curve)',
                              description='Write tsne_seed<s>.png (embeddings coloured by label) '
                                          'and loss.png (loss per epoch) for a run directory '
                                          'of any kind (node, graph or image).')
    p.add_argument('run_dir', help='a directory written by graphdim train --out')
    p.add_argument('--out', help='where to write the PNGs (default: RUN_DIR)')
    p.add_argument('--max-points', type=int, default=5000,
                   help='t-SNE of at most this many embeddings, a seeded sample (default 5000)')
    p.add_argument('--quiet', action='store_true', help='no progress lines')
    p.set_defaults(run=run)


def run(args) -> None:
    for path in plot_run(args.run_dir, args.out, args.max_points):
        print(f"wrote {path}")
