# SPDX-License-Identifier: GPL-2.0-or-later
"""What the job knows about itself: the DET_* environment set by det-launch."""

import json
import os
import socket


class TrialInfo:
    """The trial this process belongs to."""

    def __init__(self, env):
        self.trial_id = _int(env, "DET_TRIAL_ID", 0)
        self.experiment_id = _int(env, "DET_EXPERIMENT_ID", 0)
        self.trial_seed = _int(env, "DET_TRIAL_SEED", 0)
        self.hparams = _json_object(env, "DET_HPARAMS")
        self.trial_run_id = _int(env, "DET_RESTARTS", 0)
        self.steps_completed = _int(env, "DET_STEPS_COMPLETED", 0)
        self.searcher_length = _int(env, "DET_SEARCHER_LENGTH", 0)
        self.searcher_unit = env.get("DET_SEARCHER_UNIT") or "batches"
        self.searcher_metric = env.get("DET_SEARCHER_METRIC") or ""
        self.smaller_is_better = env.get("DET_SMALLER_IS_BETTER", "1") != "0"


class ClusterInfo:
    """Cluster-side information about the running task (``det.get_cluster_info()``)."""

    task_type = "TRIAL"

    def __init__(self, env=None):
        env = os.environ if env is None else env
        self.master_url = env.get("DET_MASTER", "")
        self.session_token = env.get("DET_SESSION_TOKEN", "")
        self.cluster_id = "det-slurm"
        self.trial = TrialInfo(env)
        self.latest_checkpoint = env.get("DET_LATEST_CHECKPOINT") or None
        self.checkpoint_dir = env.get("DET_CHECKPOINT_DIR") or None
        self.preempt_file = env.get("DET_PREEMPT_FILE") or None
        self.early_exit_file = env.get("DET_EARLY_EXIT_FILE") or None
        self.container_rank = _int(env, "DET_CROSS_RANK", 0)
        local_rank = _int(env, "DET_LOCAL_RANK", 0)
        devices = [d for d in (env.get("CUDA_VISIBLE_DEVICES") or "").split(",") if d]
        self.gpu_uuids = [d for d in devices if d.startswith(("GPU-", "MIG-"))]
        self.slot_ids = [int(d) for d in devices if d.isdigit()] or [local_rank]
        self.agent_id = socket.gethostname()
        addrs = [a for a in (env.get("DET_CONTAINER_ADDRS") or "").split(",") if a]
        if not addrs and _int(env, "DET_CROSS_SIZE", 1) == 1:
            addrs = [env.get("MASTER_ADDR") or "127.0.0.1"]
        self.container_addrs = addrs
        self.user_data = _json_object(env, "DET_USER_DATA")

    @property
    def task_id(self):
        return f"trial-{self.trial.trial_id}"

    @property
    def allocation_id(self):
        return f"{self.task_id}.{self.trial.trial_run_id}"


def _int(env, name, default):
    v = env.get(name)
    if v is None or v == "":
        return default
    try:
        return int(v)
    except ValueError:
        raise ValueError(f"{name}={v!r}: not an integer") from None


def _json_object(env, name):
    """The JSON object in env[name] ({} when unset or empty)."""
    try:
        v = json.loads(env.get(name) or "{}")
    except ValueError as e:
        raise ValueError(f"{name}: not JSON: {e}") from None
    if not isinstance(v, dict):
        raise ValueError(f"{name}: not a JSON object")
    return v


def get_cluster_info():
    """The ClusterInfo of this job, or None when not running under det-master."""
    if not os.environ.get("DET_MASTER"):
        return None
    return ClusterInfo()
