"""Image-side modules: the DIM paper's convolutional encoders and the image DIM model (its
probes live in :mod:`graphdim.eval.image`)."""
