"""The only code that touches sockets, signals and the clock."""
