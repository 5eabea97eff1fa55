# SPDX-License-Identifier: GPL-2.0-or-later
"""The Core API off-cluster: metrics, progress, early exit, checkpoints,
preemption and the searcher operation, all under DET_LOCAL_DIR."""

import hashlib
import json
import os
import signal

import determined as det
from determined.core._checkpoint import CheckpointError
from pyenv import EnvTestCase


def read_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


class OffClusterTest(EnvTestCase):
    def test_metrics_written_as_json_lines(self):
        with det.core.init() as core:
            core.train.report_training_metrics(steps_completed=5, metrics={"loss": 0.5})
            core.train.report_validation_metrics(10, {"validation_loss": 0.25, "acc": 1})
        lines = read_lines(os.path.join(self.dir, "metrics.jsonl"))
        self.assertEqual(lines[0], {"group": "training", "steps_completed": 5,
                                    "metrics": {"loss": 0.5}})
        self.assertEqual(lines[1]["group"], "validation")
        self.assertEqual(lines[1]["metrics"], {"validation_loss": 0.25, "acc": 1.0})

    def test_bad_metrics_refused(self):
        with det.core.init() as core:
            with self.assertRaisesRegex(ValueError, "not finite"):
                core.train.report_training_metrics(1, {"loss": float("nan")})
            with self.assertRaisesRegex(TypeError, "not a number"):
                core.train.report_training_metrics(1, {"loss": "high"})
            with self.assertRaises(ValueError):
                core.train.report_training_metrics(-1, {"loss": 1.0})
            with self.assertRaises(ValueError):
                core.train.report_progress(1.5)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "metrics.jsonl")))

    def test_searcher_operation_reports_progress(self):
        os.environ["DET_SEARCHER_LENGTH"] = "200"
        with det.core.init() as core:
            for op in core.searcher.operations():
                self.assertEqual(op.length, 200)
                op.report_progress(50)
                op.report_completed(0.1)
        progress = [r["progress"] for r in read_lines(os.path.join(self.dir, "progress.jsonl"))]
        self.assertEqual(progress, [0.25, 1.0])

    def test_uncompleted_operation_is_an_error(self):
        with det.core.init() as core:
            with self.assertRaisesRegex(RuntimeError, "report_completed"):
                for _ in core.searcher.operations():
                    pass

    def test_early_exit_leaves_reason_for_the_launcher(self):
        path = os.path.join(self.dir, "early")
        os.environ["DET_EARLY_EXIT_FILE"] = path
        os.environ["DET_MASTER"] = ""
        with det.core.init() as core:
            core.train.report_early_exit(det.core.EarlyExitReason.INVALID_HP)
        self.assertEqual(read_lines(os.path.join(self.dir, "early_exit.jsonl")),
                         [{"reason": "INVALID_HP"}])

    def test_preempt_file_is_sticky(self):
        path = os.path.join(self.dir, "preempt")
        os.environ["DET_PREEMPT_FILE"] = path
        with det.core.init() as core:
            self.assertFalse(core.preempt.should_preempt())
            open(path, "w").close()
            self.assertTrue(core.preempt.should_preempt())
            os.unlink(path)
            self.assertTrue(core.preempt.should_preempt())

    def test_sigterm_under_det_launch_is_a_preemption(self):
        os.environ["DET_PREEMPT_FILE"] = os.path.join(self.dir, "never-created")
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            with det.core.init() as core:
                self.assertFalse(core.preempt.should_preempt())
                os.kill(os.getpid(), signal.SIGTERM)  # handled: the test lives on
                self.assertTrue(core.preempt.should_preempt())
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def test_checkpoint_round_trip_with_checksums(self):
        with det.core.init() as core:
            with core.checkpoint.store_path({"steps_completed": 7, "note": "x"}) as (path, uuid):
                self.assertTrue(os.path.basename(path).startswith(".tmp-"))
                with open(os.path.join(path, "w.bin"), "wb") as f:
                    f.write(b"abc")
                os.makedirs(os.path.join(path, "sub"))
                open(os.path.join(path, "sub", "e"), "w").close()
            final = os.path.join(self.dir, "checkpoints", uuid)
            self.assertFalse(os.path.exists(path))
            with open(os.path.join(final, "metadata.json")) as f:
                meta = json.load(f)
            self.assertEqual(meta["steps_completed"], 7)
            self.assertEqual(meta["metadata"]["note"], "x")
            self.assertEqual(meta["files"], [
                {"path": "sub/e", "size": 0, "sha256": hashlib.sha256(b"").hexdigest()},
                {"path": "w.bin", "size": 3, "sha256": hashlib.sha256(b"abc").hexdigest()}])
            with core.checkpoint.restore_path(uuid) as p:
                self.assertEqual(str(p), final)
                self.assertEqual((p / "w.bin").read_bytes(), b"abc")
            self.assertEqual(core.checkpoint.get_metadata(uuid)["note"], "x")

    def test_unusable_checkpoint_directory_is_named(self):
        # a file where the directory should be: the error names the directory in one line
        with open(os.path.join(self.dir, "checkpoints"), "w"):
            pass
        with det.core.init() as core:
            with self.assertRaisesRegex(OSError, r"^\[Errno \d+\] checkpoint directory "
                                                 r".*checkpoints: [^\n]+$"):
                with core.checkpoint.store_path({}) as (path, uuid):
                    pass

    def test_restore_detects_corruption_and_bad_ids(self):
        with det.core.init() as core:
            with core.checkpoint.store_path({}) as (path, uuid):
                with open(os.path.join(path, "w.bin"), "wb") as f:
                    f.write(b"abc")
            w = os.path.join(self.dir, "checkpoints", uuid, "w.bin")
            with open(w, "wb") as f:
                f.write(b"abd")
            with self.assertRaisesRegex(CheckpointError, "SHA-256"):
                with core.checkpoint.restore_path(uuid):
                    pass
            with open(w, "wb") as f:
                f.write(b"ab")
            with self.assertRaisesRegex(CheckpointError, "size 2, registered 3"):
                with core.checkpoint.restore_path(uuid):
                    pass
            with self.assertRaisesRegex(CheckpointError, "not a uuid"):
                with core.checkpoint.restore_path("../../etc"):
                    pass

    def test_failed_store_leaves_nothing(self):
        with det.core.init() as core:
            with self.assertRaises(KeyError):
                with core.checkpoint.store_path({}) as (path, uuid):
                    open(os.path.join(path, "half"), "w").close()
                    raise KeyError("training blew up")
            ck = os.path.join(self.dir, "checkpoints")
            self.assertEqual(os.listdir(ck), [])
            with self.assertRaisesRegex(CheckpointError, "only regular files"):
                with core.checkpoint.store_path({}) as (path, uuid):
                    os.symlink("/etc/passwd", os.path.join(path, "pw"))
            self.assertEqual(os.listdir(ck), [])

    def test_leftovers_of_a_dead_writer_are_removed_at_start(self):
        import fcntl
        ck = os.path.join(self.dir, "checkpoints")
        names = {k: ".tmp-%s-1111-4111-8111-111111111111" % (k * 8)
                 for k in ("1", "2", "3", "4")}
        for k, n in names.items():
            os.makedirs(os.path.join(ck, n))
            open(os.path.join(ck, n, "half"), "w").close()
        open(os.path.join(ck, names["1"] + ".lock"), "w").close()  # its writer died
        held = os.open(os.path.join(ck, names["2"] + ".lock"), os.O_RDWR | os.O_CREAT)
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a writer still at work
        old = os.path.join(ck, names["3"])  # no lock file, three days old
        os.utime(old, (os.path.getmtime(old) - 3 * 86400,) * 2)
        try:
            with det.core.init() as core:
                left = sorted(os.listdir(ck))
                self.assertEqual(left, sorted([names["2"], names["2"] + ".lock", names["4"]]))
                with core.checkpoint.store_path({}) as (path, uuid):
                    self.assertTrue(os.path.exists(str(path) + ".lock"))
                self.assertFalse(os.path.exists(str(path) + ".lock"))
        finally:
            os.close(held)

    def test_checkpoint_storage_argument(self):
        target = os.path.join(self.dir, "elsewhere")
        with det.core.init(checkpoint_storage={"type": "shared_fs", "host_path": target,
                                                "storage_path": "s"}) as core:
            with core.checkpoint.store_path({}) as (path, uuid):
                pass
        self.assertTrue(os.path.isdir(os.path.join(target, "s", uuid)))

    def test_tensorboard_path_and_upload(self):
        with det.core.init(tensorboard_mode=det.core.TensorboardMode.MANUAL) as core:
            tb = core.train.get_tensorboard_path()
            self.assertTrue(tb.is_dir())
            (tb / "events.out.tfevents.1.h").write_bytes(b"x")
            (tb / "notes.txt").write_bytes(b"y")
            kept = core.train.upload_tensorboard_files(
                selector=lambda p: "tfevents" in str(p), mangler=lambda p, r: f"rank{r}/{p}")
            self.assertEqual([str(p) for p in kept], ["rank0/events.out.tfevents.1.h"])
            self.assertTrue((tb / "rank0" / "events.out.tfevents.1.h").exists())
            with self.assertRaises(ValueError):
                core.train.upload_tensorboard_files(mangler=lambda p, r: "../" + str(p))

    def test_cloud_storage_refused_not_written_locally(self):
        for kw in ({"checkpoint_storage": "s3://bucket/x"}, {"storage_path": "gs://bucket"},
                   {"checkpoint_storage": {"type": "azure", "container": "c"}},
                   {"checkpoint_storage": {"type": "shared_fs", "host_path": "azure://c"}}):
            with self.assertRaises(ValueError) as cm:
                det.core.init(**kw)
            self.assertIn("not supported by det-slurm", str(cm.exception))
        self.assertEqual([n for n in os.listdir(".") if n.startswith(("s3:", "gs:", "azure:"))],
                         [])
