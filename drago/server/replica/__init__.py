"""A replica: a server that mirrors a primary's repository and serves its reads.

``drago server --replica-of URL`` (see ``docs/scaling.md``):

- :mod:`~drago.server.replica.mirror` fetches the primary's branches over Git
  smart HTTP into this server's repository, checked like a push before a ref moves;
- :mod:`~drago.server.replica.follow` long-polls the primary's live revision
  (with a periodic fetch as fallback) and makes what the mirror fetched live;
- :mod:`~drago.server.replica.forward` sends writes to the primary with the
  caller's credentials and answers once the new revision is live here;
- :mod:`~drago.server.replica.replica` wires them into a server context.

This package's ``__init__`` imports nothing: the settings import the URL grammar.
"""
