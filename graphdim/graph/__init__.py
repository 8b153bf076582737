"""Graph-side modules: propagation, encoders, readouts, corruptions, input checks and models."""
