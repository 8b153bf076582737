"""Issue 37, cause 4: the diffusion series has a bounded length, its parameters a range the
computation can take (checked with the config, before anything is written), and its result is
checked (finite, non-negative, non-empty) instead of training on NaN or an empty view."""
import pytest
import torch

from graphdim import cli
from graphdim.graph.diffusion import MAX_SERIES_TERMS, _series, diffusion_matrix


def _ring(num_nodes: int) -> torch.Tensor:
    """A cycle, both directions: the cheapest connected graph."""
    nodes = torch.arange(num_nodes)
    forward = torch.stack([nodes, (nodes + 1) % num_nodes])
    return torch.cat([forward, forward.flip(0)], dim=1)


def _one_error_line(capsys, *words):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('graphdim: error:'), err
    assert all(word in err[0] for word in words), err[0]


@pytest.mark.parametrize('options, named', [
    (['--diffusion', 'heat', '--diffusion-time', '1000'], '--diffusion-time'),  # looped, OOM
    (['--diffusion', 'heat', '--diffusion-time', '1e30'], '--diffusion-time'),  # NaN views
    (['--alpha', '1e-9'], 'alpha'),  # 1.2e10 series terms on a large graph
    (['--alpha', '1e-17'], 'alpha'),  # ZeroDivisionError, a singular inverse
    (['--alpha', '1'], 'alpha'),
])
def test_diffusion_options_are_bounded_before_anything_is_written(tmp_path, capsys,
                                                                         options, named):
    out = tmp_path / 'run'
    for level in ([], ['--level', 'graph']):
        assert cli.main(['train', *level, '--model', 'mvgrl', *options, '--epochs', '2',
                         '--hidden', '8', '--quiet', '--out', str(out)]) == 2
        _one_error_line(capsys, named)
        assert not out.exists()


def test_the_series_is_bounded_and_its_result_checked():
    ring = _ring(40)
    # The series path (taken above exact_max_nodes): a parameter past the range is refused
    # by name at once, not looped over (t = 1000 appended zeros until memory ran out).
    for settings in ({'method': 'ppr', 'alpha': 1e-17}, {'method': 'heat', 't': 1000.0}):
        with pytest.raises(ValueError, match='alpha must be in|t must be'):
            diffusion_matrix(ring, 40, exact_max_nodes=0, eps=1e-4, **settings)
    # An accuracy that needs more than MAX_SERIES_TERMS terms: the parameter and what fits.
    with pytest.raises(ValueError, match=f'alpha .*more than {MAX_SERIES_TERMS}.*alpha >= '):
        diffusion_matrix(ring, 40, 'ppr', alpha=0.01, exact_max_nodes=0, eps=1e-4, tol=1e-7)
    with pytest.raises(ValueError, match=f't .*2000.0 needs more than {MAX_SERIES_TERMS}.*'
                                         f't <= 10'):  # the series itself, past t's range
        _series('heat', 0.2, 2000.0, 1e-5)
    # The range's ends still compute, by the series as in closed form, and agree.
    for settings in ({'method': 'heat', 't': 100.0}, {'method': 'ppr', 'alpha': 0.01}):
        series = diffusion_matrix(ring, 40, exact_max_nodes=0, eps=0.0, **settings)
        exact = diffusion_matrix(ring, 40, eps=0.0, **settings)
        assert torch.allclose(series.to_dense(), exact.to_dense(), atol=1e-4)
    # A view with no entry left is an error, not an empty second view.
    with pytest.raises(ValueError, match='keeps no entry'):
        diffusion_matrix(ring, 40, 'heat', t=100.0, eps=0.5)
    # Entries that are not finite or negative (here from negative edge weights) are refused.
    weights = -torch.ones(ring.size(1))
    with pytest.raises(ValueError, match='non-finite or negative'):
        diffusion_matrix(ring, 40, 'ppr', edge_weight=weights)
