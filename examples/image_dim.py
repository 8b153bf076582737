"""Image DIM on MNIST: train DIM(L), then compare the linear probe on Y with raw pixels.

    GRAPHDIM_DATA=../shared/data python examples/image_dim.py
"""
import os

import torch

import graphdim as gd

smoke = os.environ.get('GRAPHDIM_EXAMPLE_SMOKE') == '1'
dataset = gd.load_image_dataset('mnist')  # reads $GRAPHDIM_DATA/images/mnist/*.npz
gd.seed_everything(0)

# DIM(L): alpha 0 (global), beta 1 (local), gamma 0.1 (prior); the paper's 28x28 encoder.
model = gd.ImageDIM.from_options(dataset.image_size, dataset.channels, mode='local',
                                 estimator='jsd', mi_units=64 if smoke else 256)
train_images = dataset.train_images[5000:5640 if smoke else 30000]
gd.fit(model, gd.ImageBatches(train_images, batch_size=64), epochs=1, lr=1e-3, patience=0)

# Probe: validation images (for the probe's choices) and 2000 probe-training images from the
# training set, then the test images (touched once).
num_val, num_test = (500, 500) if smoke else (5000, 10000)
split = gd.holdout_split(2000 + num_val, num_test, val_size=num_val, seed=0)
images = torch.cat([dataset.train_images[:2000 + num_val], dataset.test_images[:num_test]])
labels = torch.cat([dataset.train_labels[:2000 + num_val], dataset.test_labels[:num_test]])
y = gd.image_features(model.encoder, images, ['y'])['y']
for name, features in (('DIM(L) Y', y), ('raw pixels', gd.raw_pixels(images))):
    result = gd.linear_probe(features, labels, split, c_grid=(0.1, 1.0, 10.0))
    print(f'{name:>10}: test accuracy {100 * result.test_acc:.1f}%')
