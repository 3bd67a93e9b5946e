"""Runtime state of the server (tokens, node status, trusted signers): never desired
state, never in Git.

:class:`TokenStore` and :class:`StatusStore` are the interfaces (and
:class:`drago.signing.SignerSource` for the signers). The SQLite implementations
live in :mod:`.tokens` and :mod:`.status` over :mod:`.db`, beside the data
directory's ``allowed_signers``; the PostgreSQL ones, which several servers share,
in :mod:`.postgres_stores` over :mod:`.postgres`. :func:`.stores.open_runtime`
picks one from the ``--database`` setting.
"""
