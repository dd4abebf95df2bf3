"""The server, sans-IO: state, the command table, handlers and the outbox.

Nothing here touches a socket or reads a clock: the network layer feeds lines in with the
current time and reads back, per session, the bytes to send.
"""
