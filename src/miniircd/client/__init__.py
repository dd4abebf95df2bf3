"""The bundled terminal client: every operation of the course spec as one command.

`session.ClientSession` is the client without I/O (commands in, IRC lines out; IRC lines
in, display events out); `terminal.py` is the thin front with the socket and readline;
`python -m miniircd.client` (the `miniircd-client` script) starts it.
"""
