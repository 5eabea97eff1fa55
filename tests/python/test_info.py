# SPDX-License-Identifier: GPL-2.0-or-later
"""det.get_cluster_info() and det.LOG_FORMAT."""

import logging
import os

import determined as det
from pyenv import EnvTestCase


class InfoTest(EnvTestCase):
    def test_off_cluster_has_no_cluster_info(self):
        self.assertIsNone(det.get_cluster_info())

    def test_cluster_info_from_environment(self):
        os.environ.update({
            "DET_MASTER": "unix:/nonexistent.sock", "DET_TRIAL_ID": "12",
            "DET_EXPERIMENT_ID": "4", "DET_HPARAMS": '{"lr": 0.5, "arch": {"n": 2}}',
            "DET_LATEST_CHECKPOINT": "01234567-89ab-4def-8123-456789abcdef",
            "DET_TRIAL_SEED": "77", "DET_SESSION_TOKEN": "t"})
        info = det.get_cluster_info()
        self.assertEqual(info.trial.trial_id, 12)
        self.assertEqual(info.trial.experiment_id, 4)
        self.assertEqual(info.trial.hparams, {"lr": 0.5, "arch": {"n": 2}})
        self.assertEqual(info.trial.trial_seed, 77)
        self.assertEqual(info.latest_checkpoint, "01234567-89ab-4def-8123-456789abcdef")
        self.assertEqual(info.task_type, "TRIAL")

    def test_cluster_info_slots_addresses_ids_and_user_data(self):
        saved = os.environ.get("CUDA_VISIBLE_DEVICES")
        self.addCleanup(lambda: os.environ.pop("CUDA_VISIBLE_DEVICES", None) if saved is None
                        else os.environ.update(CUDA_VISIBLE_DEVICES=saved))
        os.environ.update({
            "DET_MASTER": "unix:/x", "DET_TRIAL_ID": "9", "DET_RESTARTS": "2",
            "DET_LOCAL_RANK": "1", "DET_CROSS_RANK": "0", "DET_CROSS_SIZE": "1",
            "MASTER_ADDR": "10.1.2.3", "DET_USER_DATA": '{"team": "a"}',
            "CUDA_VISIBLE_DEVICES": "GPU-0a,GPU-0b"})
        info = det.get_cluster_info()
        self.assertEqual(info.task_id, "trial-9")
        self.assertEqual(info.allocation_id, "trial-9.2")
        self.assertEqual(info.slot_ids, [1])
        self.assertEqual(info.gpu_uuids, ["GPU-0a", "GPU-0b"])
        self.assertEqual(info.container_addrs, ["10.1.2.3"])
        self.assertEqual(info.container_rank, 0)
        self.assertEqual(info.user_data, {"team": "a"})
        self.assertTrue(info.agent_id)
        os.environ["CUDA_VISIBLE_DEVICES"] = "2,3"
        self.assertEqual(det.get_cluster_info().slot_ids, [2, 3])

    def test_empty_latest_checkpoint_is_none(self):
        os.environ.update({"DET_MASTER": "unix:/x", "DET_LATEST_CHECKPOINT": ""})
        self.assertIsNone(det.get_cluster_info().latest_checkpoint)

    def test_malformed_environment_is_reported(self):
        os.environ.update({"DET_MASTER": "unix:/x", "DET_HPARAMS": "[1]"})
        with self.assertRaisesRegex(ValueError, "DET_HPARAMS"):
            det.get_cluster_info()
        os.environ.update({"DET_HPARAMS": "{}", "DET_TRIAL_ID": "x"})
        with self.assertRaisesRegex(ValueError, "DET_TRIAL_ID"):
            det.get_cluster_info()

    def test_log_format_is_a_logging_format(self):
        rec = logging.LogRecord("n", logging.INFO, "f", 1, "hello", None, None)
        text = logging.Formatter(det.LOG_FORMAT).format(rec)
        self.assertIn("INFO", text)
        self.assertIn("hello", text)
