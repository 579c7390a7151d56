"""One argon2id verify's CPU time with the gateway's own hasher (``password_hasher``: t=3,
m=64 MiB, p=1). ``python -m bench.argon2_time [N]`` prints JSON.

CPU time of the whole process (``time.process_time``), so that a hasher with several lanes,
which libargon2 computes in threads of its own, would be counted whole too.
"""

from __future__ import annotations

import json
import secrets
import statistics
import sys
import time

from gateway.auth.passwords import password_hasher


def main() -> None:
    samples_wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    hasher = password_hasher()
    password = secrets.token_urlsafe(18)
    stored = hasher.hash(password)
    hasher.verify(password, stored)  # warm: first-call allocations are not the steady cost
    cpu, wall = [], []
    for _ in range(samples_wanted):
        began_cpu, began_wall = time.process_time(), time.perf_counter()
        if not hasher.verify(password, stored):
            raise SystemExit("argon2 verify failed")
        cpu.append(time.process_time() - began_cpu)
        wall.append(time.perf_counter() - began_wall)
    print(
        json.dumps(
            {
                "cpu_seconds": statistics.median(cpu),
                "wall_seconds": statistics.median(wall),
                "parameters": stored.split("$")[3],
            }
        )
    )


if __name__ == "__main__":
    main()
