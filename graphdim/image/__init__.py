"""Image-side modules: the DIM paper's convolutional encoders, the image DIM model, probes."""
