"""The ``drago`` command line."""
