# SPDX-License-Identifier: GPL-2.0-or-later
"""DistributedContext: a multi-rank run with several local processes
(allgather, gather, broadcast, agreed should_preempt) and the message
authentication that keeps strangers out."""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import determined as det
from pyenv import EnvTestCase

WORKER = textwrap.dedent("""
    import json, os, sys
    import determined as det
    rank = int(sys.argv[1]); size = int(sys.argv[2])
    dist = det.core.DistributedContext(rank=rank, size=size, local_rank=rank % 2, local_size=2,
                                       cross_rank=rank // 2, cross_size=(size + 1) // 2,
                                       chief_ip="127.0.0.1", port=int(sys.argv[3]))
    out = {}
    with det.core.init(distributed=dist) as core:
        d = core.distributed
        out["allgather"] = d.allgather({"rank": d.rank, "sq": d.rank * d.rank})
        out["gather"] = d.gather(d.rank * 10)
        out["broadcast"] = d.broadcast("from chief" if d.rank == 0 else "not me")
        out["local"] = d.allgather_local(d.rank)
        if d.rank == 0:
            open(os.environ["DET_PREEMPT_FILE"], "w").close()
        out["preempt"] = core.preempt.should_preempt()
        core.train.report_training_metrics(1, {"loss": float(d.rank)})
        with core.checkpoint.store_path({"steps_completed": 1}, shard=True) as (path, uuid):
            (path / f"rank{d.rank}").write_text(str(d.rank))
        out["uuid"] = uuid
        try:
            with core.checkpoint.store_path({}) as (path, uuid):
                pass
            out["unsharded"] = "allowed"
        except RuntimeError as e:
            out["unsharded"] = str(e)
        with core.checkpoint.restore_path(out["uuid"]) as path:
            out["files"] = sorted(p.name for p in path.iterdir())
    print(json.dumps(out))
""")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class DistributedTest(EnvTestCase):
    def run_ranks(self, size, extra_env=None, stranger=False):
        port = free_port()
        script = os.path.join(self.dir, "worker.py")
        with open(script, "w") as f:
            f.write(WORKER)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.path.dirname(os.path.dirname(det.__file__))
        env["DET_PREEMPT_FILE"] = os.path.join(self.dir, "preempt")
        env["DET_SESSION_TOKEN"] = "shared-secret"
        env.update(extra_env or {})
        procs = [subprocess.Popen([sys.executable, script, str(r), str(size), str(port)],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  cwd=self.dir) for r in range(size)]
        if stranger:
            # someone else connects first and sends junk: the chief must ignore it
            for _ in range(100):
                try:
                    s = socket.create_connection(("127.0.0.1", port), timeout=1)
                    s.sendall(b"\x00\x00\x00\x00\x00\x00\x00\x04evil" + b"\x00" * 32)
                    s.close()
                    break
                except OSError:
                    time.sleep(0.05)
        outs = []
        for p in procs:
            o, e = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, e.decode())
            outs.append(json.loads(o.decode().strip().splitlines()[-1]))
        return outs

    def test_four_ranks_allgather_gather_broadcast(self):
        outs = self.run_ranks(4)
        want = [{"rank": r, "sq": r * r} for r in range(4)]
        for r, o in enumerate(outs):
            self.assertEqual(o["allgather"], want)
            self.assertEqual(o["gather"], [0, 10, 20, 30] if r == 0 else None)
            self.assertEqual(o["broadcast"], "from chief")
            self.assertEqual(o["local"], [0, 1] if r < 2 else [2, 3])
            self.assertTrue(o["preempt"], "every rank follows the chief's decision")
            self.assertEqual(o["uuid"], outs[0]["uuid"])
            self.assertEqual(o["files"], ["metadata.json", "rank0", "rank1", "rank2", "rank3"])
            if r == 0:
                self.assertEqual(o["unsharded"], "allowed")
            else:
                self.assertIn("only be called on the chief", o["unsharded"])
        # only the chief reported metrics
        with open(os.path.join(self.dir, "metrics.jsonl")) as f:
            lines = [json.loads(x) for x in f]
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines[0]["metrics"], {"loss": 0.0})

    def test_stranger_with_wrong_key_is_ignored(self):
        outs = self.run_ranks(2, stranger=True)
        self.assertEqual(outs[1]["allgather"], [{"rank": 0, "sq": 0}, {"rank": 1, "sq": 1}])

    def test_single_process_needs_no_network(self):
        d = det.core.DummyDistributedContext()
        self.assertEqual(d.allgather(5), [5])
        self.assertEqual(d.gather(5), [5])
        self.assertEqual(d.broadcast(5), 5)
        self.assertEqual((d.rank, d.size, d.cross_size), (0, 1, 1))

    def test_invalid_ranks_refused(self):
        with self.assertRaises(ValueError):
            det.core.DistributedContext(rank=2, size=2, local_rank=0, local_size=1,
                                        cross_rank=0, cross_size=1)

    def test_from_torch_distributed_environment(self):
        os.environ.update({"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"})
        d = det.core.DistributedContext.from_torch_distributed()
        self.assertEqual((d.rank, d.size, d.local_size), (0, 1, 1))
