"""The one place the version lives (setup.cfg and the docs read it)."""
__version__ = '0.1.0'
