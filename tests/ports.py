"""Ports for the servers tests start. A port found free by binding port 0 and closing the socket could be handed to
another process (another xdist worker's server) before the test's server binds it. `free_port` leaves the port in
TIME_WAIT instead: the kernel hands it to no bind of port 0 for a minute, while a server that sets SO_REUSEADDR
(Python's and asyncio's servers, PostgreSQL, tansu, Ray's gRPC) binds it at once."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A 127.0.0.1 port that no other process gets from the kernel for the next minute."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        address = listener.getsockname()
        with socket.socket() as client:
            client.connect(address)
            accepted, _ = listener.accept()
            accepted.close()  # this side closes first: its end of the connection, on the port, waits in TIME_WAIT
        return address[1]
