"""The figures of the node-DIM tutorial, from one small run of examples/dgi_cora.py's recipe.

    GRAPHDIM_DATA=../shared/data python docs/tutorials/figures/make_figures.py

DGI on Cora (seed 0, one GCN layer of 512 units, early stopping on the training loss,
patience 20), then:

* ``dgi_cora_loss.png``: the training loss per epoch, the best epoch (whose state is kept)
  marked;
* ``dgi_cora_tsne.png``: a 2-d t-SNE (scikit-learn, seed 0) of the frozen embeddings of the
  test nodes, coloured by class, titled with the linear probe's test accuracy.

Needs matplotlib and scikit-learn (``pip install 'graphdim[plot]' scikit-learn``). The figures
are written beside this script.
"""
from pathlib import Path

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.manifold import TSNE  # noqa: E402

import graphdim as gd  # noqa: E402

HERE = Path(__file__).resolve().parent


def main():
    data = gd.load_node_dataset('Cora').data
    gd.seed_everything(0)
    model = gd.DeepGraphInfomax.from_options(data.num_features, hidden_channels=512)
    history = gd.fit(model, data, epochs=1000, patience=20)
    z = gd.embed(model, data)
    split = gd.public_split(data)
    result = gd.linear_probe(z, data.y, split)
    accuracy = 100 * result.test_acc

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=150)
    epochs = range(1, len(history.losses) + 1)
    ax.plot(epochs, history.losses, lw=1.2, label='training loss (BCE)')
    best = history.best_epoch
    ax.axvline(best, color='C3', ls='--', lw=1,
               label=f'best epoch {best} (kept), loss {history.best_loss:.3f}')
    ax.set_xlabel('epoch')
    ax.set_ylabel('DGI loss (BCE)')
    ax.set_title(f'DGI on Cora, seed 0: {history.epochs} epochs, early stopping (patience 20)')
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(HERE / 'dgi_cora_loss.png')
    plt.close(fig)

    test = split.test
    points = TSNE(n_components=2, random_state=0, init='pca').fit_transform(
        z[test].numpy())
    labels = data.y[test].numpy()
    fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=150)
    for label in sorted(set(labels.tolist())):
        chosen = labels == label
        ax.scatter(points[chosen, 0], points[chosen, 1], s=6, color=f'C{label}',
                   label=f'class {label}')
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f'DGI on Cora, plain embeddings (no reinforcement), {int(test.sum())} test '
                 f'nodes\nt-SNE; linear probe test accuracy {accuracy:.1f}%', fontsize=10)
    ax.legend(title='Cora class id', markerscale=2.5, fontsize=8, frameon=False,
              loc='center left', bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    fig.savefig(HERE / 'dgi_cora_tsne.png')
    plt.close(fig)
    print(f'{history.epochs} epochs (best {best}), test accuracy {accuracy:.1f}%; wrote '
          f'{HERE / "dgi_cora_loss.png"} and {HERE / "dgi_cora_tsne.png"}')


if __name__ == '__main__':
    main()
