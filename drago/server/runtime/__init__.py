"""Runtime state of the server (tokens, node status): never desired state, never in Git.

:class:`TokenStore` and :class:`StatusStore` are the interfaces; the SQLite
implementations live in :mod:`.tokens` and :mod:`.status` over :mod:`.db`. A
PostgreSQL implementation for replicas would implement the same protocols.
"""
