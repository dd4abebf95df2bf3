"""Login storm: N clients log in with SASL PLAIN at once while another client PINGs.

Prints how long the storm took and the PING round-trip times measured during it: the
server hashes on worker threads, so an unrelated client's PING must not wait for scrypt.
Usage: python bench/login_storm.py [--clients 200]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import time
from pathlib import Path

from common import Client, ServerProcess, percentile

PASSWORD = "storm-password-1"


async def login(port: int, index: int) -> bool:
    client = await Client.connect(port)
    payload = base64.b64encode(f"\0stormer\0{PASSWORD}".encode()).decode()
    client.send("CAP LS 302", f"NICK s{index}", f"USER s{index} 0 * :s", "CAP REQ :sasl")
    await client.expect("ACK")
    client.send("AUTHENTICATE PLAIN")
    await client.expect("AUTHENTICATE")
    client.send(f"AUTHENTICATE {payload}")
    line = await client.expect(r" (903|904) ", timeout=120)
    client.send("CAP END", "QUIT")
    client.close()
    return " 903 " in line


async def pinger(port: int, stop: asyncio.Event, samples: list[float]) -> None:
    client = await Client.connect(port)
    await client.register("pinger")
    count = 0
    while not stop.is_set():
        count += 1
        started = time.perf_counter()
        client.send(f"PING :p{count}")
        await client.expect(f"PONG .*p{count}$")
        samples.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.01)
    client.close()


async def main(clients: int) -> None:
    # 200 clients from one address: the per-IP connection cap would refuse most of them
    server = ServerProcess("--config", str(Path(__file__).with_name("unlimited.toml")))
    try:
        setup = await Client.connect(server.port)
        await setup.register("stormer")
        setup.send(f"REGISTER * * {PASSWORD}")
        await setup.expect("REGISTER SUCCESS")
        setup.close()

        stop = asyncio.Event()
        samples: list[float] = []
        ping_task = asyncio.create_task(pinger(server.port, stop, samples))
        await asyncio.sleep(0.5)
        baseline = len(samples)
        started = time.perf_counter()
        results = await asyncio.gather(*(login(server.port, i) for i in range(clients)))
        storm = time.perf_counter() - started
        stop.set()
        await ping_task
        during = samples[baseline:]
        print(f"clients: {clients}, logged in: {sum(results)}, storm took {storm:.2f} s")
        print(
            f"PING RTT during storm: n={len(during)} p50={percentile(during, 0.5):.1f} ms "
            f"p99={percentile(during, 0.99):.1f} ms max={max(during):.1f} ms"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    asyncio.run(main(parser.parse_args().clients))
