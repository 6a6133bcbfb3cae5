# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License.  You may obtain
# a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
"""The README's first command: examples/demo.py (what examples/demo.sh runs
after bootstrap) builds its two Apaches from examples/orders, shows the
requests allowed and refused, and leaves the first one running."""

import os
import re
import socket
import subprocess
import sys

from zt_e2e import find_config


def _two_free_ports():
    """A port p with p + 1 free too (the demo's step-up server)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            p = a.getsockname()[1]
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", p + 1))
                except OSError:
                    continue
        return p
    raise RuntimeError("no two free consecutive ports")


def test_demo_runs(zt_cfg):
    port = _two_free_ports()
    env = dict(os.environ, ZT_DEMO_PORT=str(port),
               ZT_E2E_CONFIG=find_config())
    demo = os.path.join(zt_cfg.srcdir, "examples", "demo.py")
    p = subprocess.run([sys.executable, demo], env=env, timeout=300,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    stop = re.search(r"^stop with:\s+(.*)$", p.stdout, re.M)
    try:
        assert p.returncode == 0, p.stdout[-3000:]
        # Each kind of answer the README promises is shown.
        statuses = re.findall(r"^  (\d{3})    ", p.stdout, re.M)
        for want in ("200", "401", "403", "404", "400"):
            assert want in statuses, (want, p.stdout[-3000:])
        assert "allowed by " in p.stdout, p.stdout[-3000:]
        assert stop, p.stdout[-3000:]
    finally:
        if stop:
            subprocess.run(stop.group(1).split(), timeout=60,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
