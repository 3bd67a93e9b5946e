"""drago-agent: makes a node's rendered config real on its WireGuard devices.

The agent imports only the model of the rendered config, the error hierarchy,
httpx, PyNaCl and pyroute2: never the server's dependencies (starlette, dulwich).
"""
