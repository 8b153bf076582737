"""Graph-side modules: encoders, readouts, corruptions, input checks and models."""
