"""drago: GitOps configuration manager for WireGuard networks."""

__version__ = "0.1.0.dev0"
