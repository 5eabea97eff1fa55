# SPDX-License-Identifier: GPL-2.0-or-later
"""det.pytorch.Trainer off-cluster on 1 and 2 ranks (DDP over gloo through
determined.launch.torch_distributed): identical weights on every rank, a
preemption mid-epoch and a resume end with the weights of an uninterrupted
run, the legacy MODULE:CLASS harness, the launch layers' errors."""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
TIMEOUT = 300


def _env(work, length, **extra):
    env = dict(os.environ, FIXTURE_OUT=work, FIXTURE_LENGTH=str(length),
               DET_LOCAL_DIR=os.path.join(work, "det-local"),
               DET_PREEMPT_FILE=os.path.join(work, "preempt"), OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([os.path.dirname(__import__("determined").__path__[0]),
                                           HERE]))
    for k in ("DET_MASTER", "RANK", "WORLD_SIZE", "DET_RANK", "DET_LATEST_CHECKPOINT"):
        env.pop(k, None)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _run(work, length, nproc, **extra):
    cmd = [PY, "-m", "determined.launch.torch_distributed", "--nproc_per_node", str(nproc),
           "--", PY, os.path.join(HERE, "pt_fixture.py")]
    p = subprocess.run(cmd, env=_env(work, length, **extra), cwd=work, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=TIMEOUT)
    return p.returncode, p.stdout.decode(errors="replace")


def _weights(work, rank):
    with open(os.path.join(work, f"weights-{rank}.bin"), "rb") as f:
        return f.read()


def _checkpoint_at(work, steps):
    for meta in glob.glob(os.path.join(work, "det-local", "checkpoints", "*", "metadata.json")):
        with open(meta, encoding="utf-8") as f:
            if json.load(f)["steps_completed"] == steps:
                return os.path.basename(os.path.dirname(meta))
    return None


class TrainerTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.work, ignore_errors=True)

    def sub(self, name):
        d = os.path.join(self.work, name)
        os.makedirs(d)
        return d

    def check_resume(self, nproc):
        # 13 batches an epoch: preempted at batch 17, in the second epoch
        full, part = self.sub("full"), self.sub("part")
        rc, out = _run(full, 30, nproc)
        self.assertEqual(rc, 0, out)
        rc, out = _run(part, 30, nproc, FIXTURE_PREEMPT_AT=17)
        self.assertEqual(rc, 0, out)
        self.assertFalse(os.path.exists(os.path.join(part, "weights-0.bin.x")))
        ckpt = _checkpoint_at(part, 17)
        self.assertIsNotNone(ckpt, out)
        self.assertIsNone(_checkpoint_at(part, 30), "the preempted run went on past batch 17")
        os.unlink(os.path.join(part, "preempt"))
        rc, out = _run(part, 30, nproc, DET_LATEST_CHECKPOINT=ckpt)
        self.assertEqual(rc, 0, out)
        self.assertIn("resumed from checkpoint", out)
        for r in range(nproc):
            self.assertEqual(_weights(full, r), _weights(part, r), f"rank {r}")
        return full

    def test_one_rank_resume_mid_epoch_matches_uninterrupted(self):
        full = self.check_resume(1)
        lines = [json.loads(x) for x in open(os.path.join(full, "det-local", "metrics.jsonl"))]
        self.assertEqual([m["steps_completed"] for m in lines if m["group"] == "validation"],
                         [10, 20, 30])
        self.assertEqual(len([m for m in lines if m["group"] == "training"]), 6)

    def test_two_ranks_identical_weights_and_resume_matches(self):
        full = self.check_resume(2)
        self.assertEqual(_weights(full, 0), _weights(full, 1))
        lines = [json.loads(x) for x in open(os.path.join(full, "det-local", "metrics.jsonl"))]
        self.assertEqual(len([m for m in lines if m["group"] == "validation"]), 3)

    def test_legacy_harness_and_load_trial_from_checkpoint(self):
        w = self.sub("legacy")
        shutil.copy(os.path.join(HERE, "pt_fixture.py"), os.path.join(w, "model_def.py"))
        env = _env(w, 0, DET_HPARAMS='{"lr": 0.1, "global_batch_size": 8}',
                   DET_SEARCHER_LENGTH=12)
        p = subprocess.run([PY, "-m", "determined.exec.harness", "model_def:TinyTrial"], env=env,
                           cwd=w, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
        out = p.stdout.decode(errors="replace")
        self.assertEqual(p.returncode, 0, out)
        ckpt = _checkpoint_at(w, 12)
        self.assertIsNotNone(ckpt, out)
        code = ("import sys, determined.pytorch as dpt, pt_fixture;"
                "t = dpt.load_trial_from_checkpoint_path(sys.argv[1]);"
                "print(type(t).__name__, t.model.training)")
        env["PYTHONPATH"] += os.pathsep + w
        p = subprocess.run([PY, "-c", code, os.path.join(w, "det-local", "checkpoints", ckpt)],
                           env=env, cwd=w, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=TIMEOUT)
        self.assertEqual(p.stdout.decode().strip().splitlines()[-1:], ["TinyTrial False"],
                         p.stdout.decode())
        p = subprocess.run([PY, "-m", "determined.exec.harness", "model_def:nothing"], env=env,
                           cwd=w, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 2)
        self.assertIn("model_def has no nothing", p.stdout.decode())

    def test_script_trial_loads_from_checkpoint_by_its_module_name(self):
        # python3 model_def.py: the class lives in __main__, the checkpoint names model_def
        w = self.sub("script")
        shutil.copy(os.path.join(HERE, "pt_fixture.py"), os.path.join(w, "model_def.py"))
        env = _env(w, 6)
        p = subprocess.run([PY, "model_def.py"], env=env, cwd=w, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stdout.decode(errors="replace"))
        ckpt = os.path.join(w, "det-local", "checkpoints", _checkpoint_at(w, 6))
        with open(os.path.join(ckpt, "load_data.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["trial_cls_spec"], "model_def:TinyTrial")
        code = ("import sys, determined.pytorch as dpt;"
                "t = dpt.load_trial_from_checkpoint_path(sys.argv[1]);"
                "print(type(t).__module__, type(t).__name__)")
        env["PYTHONPATH"] += os.pathsep + w
        p = subprocess.run([PY, "-c", code, ckpt], env=env, cwd=self.work,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT)
        self.assertEqual(p.stdout.decode().strip().splitlines()[-1:], ["model_def TinyTrial"],
                         p.stdout.decode())

    def test_launch_layers(self):
        env = _env(self.work, 0)
        p = subprocess.run([PY, "-m", "determined.launch.wrap_rank", "3", PY, "-c", "print('hi')"],
                           env=env, stdout=subprocess.PIPE, timeout=TIMEOUT)
        self.assertEqual(p.stdout.decode(), "[rank=3] hi\n")
        for layer, name in (("deepspeed", "DeepSpeed"), ("horovod", "Horovod"),
                            ("tensorflow", "TensorFlow")):
            p = subprocess.run([PY, "-m", f"determined.launch.{layer}", "x"], env=env,
                               stderr=subprocess.PIPE, timeout=TIMEOUT)
            self.assertEqual(p.returncode, 2)
            self.assertIn(f"{name} is not installed", p.stderr.decode())
        # under det-launch the torch variables come from DET_*; missing ones are named
        env.update(DET_RANK="1", DET_SIZE="2", DET_LOCAL_RANK="1", DET_LOCAL_SIZE="2",
                   MASTER_ADDR="127.0.0.1")
        p = subprocess.run([PY, "-m", "determined.launch.torch_distributed", PY, "-c", "1"],
                           env=env, stderr=subprocess.PIPE, timeout=TIMEOUT)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("MASTER_PORT is not set", p.stderr.decode())
        env["MASTER_PORT"] = "29511"
        code = "import os; print(os.environ['RANK'], os.environ['WORLD_SIZE'], os.environ['GROUP_RANK'])"
        p = subprocess.run([PY, "-m", "determined.launch.torch_distributed", PY, "-c", code],
                           env=env, stdout=subprocess.PIPE, timeout=TIMEOUT)
        self.assertEqual(p.stdout.decode().split(), ["1", "2", "0"])


if __name__ == "__main__":
    unittest.main()
