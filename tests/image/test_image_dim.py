"""Image DIM: critic scores and masks, every measure, prior matching, a real MNIST run,
bad inputs."""
import numpy as np
import pytest
import torch

import graphdim as gd
from graphdim.cli import main
from graphdim.critics import EncodeAndDotCritic, locations_as_rows
from graphdim.data.images import ImageBatches, load_image_dataset
from graphdim.estimators import MEASURES
from graphdim.image.dim import ImageDIM
from graphdim.image.encoders import ConvEncoder
from graphdim.eval import holdout_split, image_features, probe_features, raw_pixels
from graphdim.prior import PriorMatching


def test_local_scores_cover_every_location_of_every_image_with_its_own_image_positive():
    torch.manual_seed(0)
    critic = EncodeAndDotCritic(local_features=4, global_features=6, units=8).eval()
    local_map, y = torch.randn(3, 4, 2, 5), torch.randn(3, 6)
    scores, mask = critic.map_scores(local_map, y)
    assert scores.shape == mask.shape == (3 * 2 * 5, 3)
    assert mask.dtype == torch.bool and int(mask.sum()) == 3 * 2 * 5
    image_of_row = torch.arange(3).repeat_interleave(10)
    assert torch.equal(mask, image_of_row[:, None] == torch.arange(3)[None, :])
    # row b*H*W + i*W + j is location (i, j) of image b, scored against every y
    b, i, j, g = 2, 1, 3, 0
    expected = critic.local_head(local_map[b, :, i, j][None]) @ critic.global_head(y[g][None]).t()
    assert torch.allclose(scores[b * 10 + i * 5 + j, g], expected[0, 0], atol=1e-5)
    assert torch.equal(locations_as_rows(local_map)[b * 10 + i * 5 + j], local_map[b, :, i, j])


def test_global_scores_are_one_per_image_pair_with_the_diagonal_positive():
    critic = EncodeAndDotCritic(local_features=4 * 2 * 2, global_features=6, units=8)
    scores, mask = critic.scores(torch.randn(5, 16), torch.randn(5, 6), torch.arange(5))
    assert scores.shape == (5, 5) and torch.equal(mask, torch.eye(5, dtype=torch.bool))


def test_encoders_give_the_papers_shapes():
    for size, channels, local, conv in ((32, 3, (128, 8), 256 * 16), (28, 1, (128, 7), 256 * 9),
                                        (64, 3, (256, 8), 512 * 16)):
        encoder = ConvEncoder.for_image_size(size, channels).eval()
        out = encoder.features(torch.randn(2, channels, size, size))
        assert out['local'].shape == (2, local[0], local[1], local[1])
        assert out['conv'].shape == (2, conv) and out['fc'].shape == (2, 1024)
        assert out['y'].shape == (2, 64)
        assert (encoder.local_channels, encoder.local_size) == local


@pytest.mark.parametrize('measure', MEASURES)
def test_each_measure_trains_one_step_without_nan(measure):
    torch.manual_seed(0)
    model = ImageDIM.from_options(28, 1, 'local+global', estimator=measure, mi_units=16,
                                  fc_units=32, out_dim=8)
    before = model.encoder.head.weight.detach().clone()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.randn(6, 1, 28, 28)
    terms = model.loss_terms(*model(images))
    assert set(terms) == {'global', 'local', 'prior'}
    loss = model.training_loss(images)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.encoder.parameters())
    optimizer.step()
    assert not torch.equal(before, model.encoder.head.weight)


class _TinyEncoder(torch.nn.Module):
    """A user encoder: any module returning (local map, global vector)."""
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 5, 3, stride=2, padding=1)
        self.out = torch.nn.Linear(5 * 4 * 4, 3)

    def forward(self, x):
        local = torch.relu(self.conv(x))
        return local, self.out(local.flatten(1))


def test_any_encoder_returning_a_local_map_and_a_global_vector_works():
    torch.manual_seed(0)
    model = ImageDIM(_TinyEncoder(), local_channels=5, local_size=4, global_dim=3, alpha=1.0,
                     beta=1.0, gamma=0.0, mi_units=8)
    loss = model.training_loss(torch.randn(4, 1, 8, 8))
    loss.backward()
    assert torch.isfinite(loss) and model.encoder.conv.weight.grad is not None
    features = image_features(model.encoder, torch.zeros(6, 1, 8, 8, dtype=torch.uint8),
                              ('local', 'y'))
    assert features['local'].shape == (6, 80) and features['y'].shape == (6, 3)
    with pytest.raises(ValueError, match='gives no conv features'):
        image_features(model.encoder, torch.zeros(2, 1, 8, 8, dtype=torch.uint8), ('conv', ))
    wrong = ImageDIM(_TinyEncoder(), local_channels=5, local_size=3, global_dim=3)
    with pytest.raises(ValueError, match=r'local map \[B, 5, 3, 3\]'):
        wrong.training_loss(torch.randn(4, 1, 8, 8))


def _distance_from_uniform(encoder, inputs):
    """Mean gap between the sorted sigmoid outputs and the uniform quantiles (1-D W1)."""
    with torch.no_grad():
        values = torch.sigmoid(encoder(inputs)).sort(dim=0).values
    quantiles = (torch.arange(inputs.size(0)) + 0.5) / inputs.size(0)
    return float((values - quantiles[:, None]).abs().mean())


def test_prior_matching_moves_the_output_distribution_toward_the_uniform_prior():
    torch.manual_seed(0)
    encoder = torch.nn.Linear(8, 4)
    torch.nn.init.constant_(encoder.bias, 3.0)  # sigmoid(y) ~ 0.95: far from uniform
    prior = PriorMatching(4, hidden=(64, 32), lr=1e-3)
    optimizer = torch.optim.Adam(list(encoder.parameters()) + list(prior.parameters()), lr=1e-2)
    probe_inputs = torch.randn(2000, 8)
    start = _distance_from_uniform(encoder, probe_inputs)
    for _ in range(300):
        optimizer.zero_grad()
        prior(encoder(torch.randn(128, 8))).backward()
        # the discriminator's own step leaves no gradient for the shared optimiser
        assert all(p.grad is None for p in prior.discriminator.parameters())
        optimizer.step()
    end = _distance_from_uniform(encoder, probe_inputs)
    assert start > 0.4 and end < 0.5 * start


def test_prior_discriminator_steps_in_training_mode_only():
    torch.manual_seed(0)
    model = ImageDIM.from_options(28, 1, 'global', mi_units=8, fc_units=16, out_dim=4)
    weight = model.prior.discriminator[0].weight
    snapshot = weight.detach().clone()
    model.eval()
    model.training_loss(torch.randn(4, 1, 28, 28))
    assert torch.equal(weight, snapshot)
    model.train()
    model.training_loss(torch.randn(4, 1, 28, 28))
    assert not torch.equal(weight, snapshot)


@pytest.mark.slow  # an accuracy run on MNIST
def test_short_mnist_run_beats_raw_pixels_and_the_random_encoder(data_root):
    """100 steps of DIM(L): the fc features already beat raw pixels and the same encoder
    at random initialisation under the same linear probe (Y needs longer: see the
    benchmark)."""
    dataset = load_image_dataset('mnist', root=str(data_root))
    assert dataset.train_images.shape == (60000, 1, 28, 28)
    assert dataset.train_images.dtype == torch.uint8 and dataset.num_classes == 10
    gd.seed_everything(0)
    model = ImageDIM.from_options(28, 1, 'local', mi_units=64)
    random_encoder = ImageDIM.from_options(28, 1, 'local', mi_units=64).encoder
    random_encoder.load_state_dict(model.encoder.state_dict())
    gd.fit(model, ImageBatches(dataset.train_images[10000:16400], 64), epochs=1, lr=1e-3,
           patience=0, progress=False)
    # probes on 2000 / 500 training images, tested on 2000 test images
    split = holdout_split(2500, 2000, 500, seed=0)
    images = torch.cat([dataset.train_images[:2500], dataset.test_images[:2000]])
    labels = torch.cat([dataset.train_labels[:2500], dataset.test_labels[:2000]])
    probe = lambda feats: probe_features(feats, labels, split, c_grid=(0.1, 1.0, 10.0))
    dim = probe(image_features(model.encoder, images, ('fc', )))['linear/fc']['test_acc']
    rand = probe(image_features(random_encoder, images, ('fc', )))['linear/fc']['test_acc']
    pixels = probe({'pixels': raw_pixels(images)})['linear/pixels']['test_acc']
    print(f"short MNIST run, linear/fc test accuracy: DIM {dim:.2f}, random encoder "
          f"{rand:.2f}, raw pixels {pixels:.2f}")
    assert dim > pixels + 1 and dim > rand, (dim, pixels, rand)


def test_bad_inputs_are_rejected_with_clear_messages(tmp_path, monkeypatch):
    encoder = ConvEncoder.for_image_size(28, 1)
    with pytest.raises(ValueError, match=r'expected images of shape \[B, 1, 28, 28\]'):
        encoder(torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match='no preset encoder for 30x30'):
        ConvEncoder.for_image_size(30, 1)
    with pytest.raises(ValueError, match='unknown mode'):
        ImageDIM.from_options(28, 1, 'semi-local')
    with pytest.raises(ValueError, match='unknown estimator'):
        ImageDIM.from_options(28, 1, estimator='mine')
    with pytest.raises(ValueError, match='nothing to maximise'):
        ImageDIM.from_options(28, 1, alpha=0.0, beta=0.0)
    model = ImageDIM.from_options(28, 1, mi_units=8, fc_units=16, out_dim=4)
    with pytest.raises(ValueError, match='at least 2 images'):
        model.eval().training_loss(torch.randn(1, 1, 28, 28))
    with pytest.raises(ValueError, match='must be uint8'):
        ImageBatches(torch.randn(10, 1, 28, 28))
    with pytest.raises(ValueError, match='unknown image dataset'):
        load_image_dataset('imagenet')
    with pytest.raises(gd.DatasetNotFoundError, match='mnist'):
        load_image_dataset('mnist', root=str(tmp_path))
    monkeypatch.setitem(__import__('sys').modules, 'torchvision', None)
    with pytest.raises(ValueError, match=r"graphdim\[image\]"):
        load_image_dataset('cifar10', root=str(tmp_path))


def test_cli_rejects_bad_settings_before_loading_data(capsys, tmp_path):
    assert main(['image', '--train-size', '10', '--root', str(tmp_path), '--quiet']) == 2
    assert 'train_size (10) must be at least one batch' in capsys.readouterr().err


def test_mnist_npz_with_wrong_layout_is_rejected(tmp_path):
    folder = tmp_path / 'images' / 'mnist'
    folder.mkdir(parents=True)
    for split in ('train', 'test'):
        np.savez(folder / f'{split}.npz', images=np.zeros((3, 28, 28), np.float32),
                 labels=np.zeros(3, np.int64))
    with pytest.raises(ValueError, match=r'uint8 \[N, H, W, C\]'):
        load_image_dataset('mnist', root=str(tmp_path))
