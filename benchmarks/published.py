"""Published figures the results tables stand beside, each with its source, kept apart from
reproductions by others: the paper's own figure and a reproduction are separate columns.

Node classification, test accuracy (%) on Cora / CiteSeer / PubMed:

* ``PAPER``: the model's own paper -- DGI: Veličković et al., ICLR 2019; MVGRL: Hassani and
  Khasahmadi, ICML 2020 (its Cora split is not the public Planetoid one); GGD: Zheng et al.,
  NeurIPS 2022; GraphACL: Xiao et al., NeurIPS 2023 (its probe keeps the test score of the
  best validation epoch of an Adam logistic regression).
* ``REPRODUCED``: (figure, who) -- a reproduction on the public Planetoid split by someone
  other than the authors: DGL's examples (``DGL``; DGI's Cora about 81.6, CiteSeer
  69.4-70.2; MVGRL's Cora full graph, CiteSeer full graph, PubMed sampled) and an
  independent rerun of GGD's code (``rerun``).

Graph classification, 10-fold CV accuracy (%) on the TU datasets: ``GRAPH_PAPER`` (InfoGraph:
Sun et al., ICLR 2020, Table 2; MVGRL: its paper, depth, batch and epochs chosen per dataset
by test accuracy) and ``GRAPH_REPRODUCED`` (DGL's MVGRL example, early stopping on the
training loss and one evaluation; InfoGraph on PROTEINS, which its paper does not report,
from GraphCL's table).
"""

PAPER = {'dgi': {'Cora': 82.3, 'CiteSeer': 71.8, 'PubMed': 76.8},
         'mvgrl': {'Cora': 86.8, 'CiteSeer': 73.3, 'PubMed': 80.1},
         'ggd': {'Cora': 83.9, 'CiteSeer': 73.0, 'PubMed': 81.3},
         'graphacl': {'Cora': 84.2, 'CiteSeer': 73.6, 'PubMed': 82.0}}

REPRODUCED = {'dgi': {'Cora': ('81.6', 'DGL'), 'CiteSeer': ('69.4-70.2', 'DGL')},
              'mvgrl': {'Cora': ('83.5', 'DGL'), 'CiteSeer': ('73.7', 'DGL'),
                        'PubMed': ('79.8', 'DGL')},
              'ggd': {'Cora': ('83.09', 'rerun'), 'CiteSeer': ('73.03', 'rerun'),
                      'PubMed': ('80.29', 'rerun')}}


def paper(model: str, dataset: str, figures: dict = PAPER) -> str:
    """The model's own paper's figure in ``figures``, or ``'-'``."""
    figure = figures.get(model, {}).get(dataset)
    return '-' if figure is None else f'{figure:.1f}'


def reproduced(model: str, dataset: str, figures: dict = REPRODUCED) -> str:
    """``'83.5 (DGL)'``: a reproduction by others in ``figures``, or ``'-'``."""
    figure = figures.get(model, {}).get(dataset)
    return '-' if figure is None else f'{figure[0]} ({figure[1]})'


GRAPH_PAPER = {'infograph': {'MUTAG': 89.0, 'PTC_MR': 61.7, 'IMDB-BINARY': 73.0,
                             'IMDB-MULTI': 49.7},
               'mvgrl': {'MUTAG': 89.7, 'PTC_MR': 62.5, 'IMDB-BINARY': 74.2, 'IMDB-MULTI': 51.2}}

GRAPH_REPRODUCED = {'infograph': {'PROTEINS': ('74.4', 'GraphCL')},
                    'mvgrl': {'MUTAG': ('89.4', 'DGL'), 'PTC_MR': ('62.2', 'DGL'),
                              'IMDB-BINARY': ('73.8', 'DGL'), 'IMDB-MULTI': ('51.1', 'DGL')}}


def graph_paper(model: str, dataset: str) -> str:
    return paper(model, dataset, GRAPH_PAPER)


def graph_reproduced(model: str, dataset: str) -> str:
    return reproduced(model, dataset, GRAPH_REPRODUCED)
