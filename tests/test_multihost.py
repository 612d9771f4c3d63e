"""A sweep sharded over two processes (``jax.distributed`` on this machine, CPU collectives) gives the
table of the same sweep in one process.

Catches an engine that assumes every device is its own (reading back a result whose shards live on
another host fails), a mesh built from one host's devices only (each host would compute everything),
and a batch split that differs between hosts.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HOST = """
import json, sys, jax
jax.config.update("jax_cpu_collectives_implementation", "gloo")
sys.path.insert(0, {tests!r})
import sleepjax as sj  # imported first, as a user would: it must not start the backend
process = int(sys.argv[1])
if process >= 0:
    jax.distributed.initialize(coordinator_address="127.0.0.1:{port}", num_processes=2, process_id=process)
from test_sweep import BASE, make_setup  # builds arrays: after the initialisation
configs = [{{"sleep.src.inc": v}} for v in (0.005, 0.02)]
result = sj.sweep(make_setup(), BASE, configs, [0, 1], chunk_size=4, progress=False)
print(json.dumps([len(jax.devices()), jax.process_count(), result.rows]))
"""


pytestmark = pytest.mark.slow  # minutes: run with python -m pytest -m slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_hosts(processes: list[int]) -> list[subprocess.CompletedProcess]:
    code = textwrap.dedent(HOST.format(tests=str(ROOT / "tests"), port=free_port()))
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=1")
    started = [
        subprocess.Popen([sys.executable, "-c", code, str(p)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for p in processes
    ]
    done = []
    for proc in started:
        out, err = proc.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out.decode(), err.decode()))
    return done


def last_json(done: subprocess.CompletedProcess):
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_sweep_over_two_processes_equals_the_single_process_one():
    hosts = [last_json(d) for d in run_hosts([0, 1])]
    (single,) = [last_json(d) for d in run_hosts([-1])]
    for devices, processes, rows in hosts:
        assert devices == 2 and processes == 2  # one mesh over both hosts' devices
        assert rows == single[2]  # every host holds the whole table, equal to one process's
    assert single[:2] == [1, 1]
