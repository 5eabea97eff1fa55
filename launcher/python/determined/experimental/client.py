# SPDX-License-Identifier: GPL-2.0-or-later
"""The Python SDK over det-master's REST API, after Determined's
``determined.experimental.client``: login, experiments (create, wait, pause,
activate, kill, trials, top checkpoint), trials (metrics, logs, top
checkpoint), checkpoints (download, verified file by file) and the model
registry (models, their versions and each version's checkpoint).

The master is DET_MASTER (http://, https://, HOST:PORT or unix:/PATH), else
the local master's socket; on the socket no login is needed. Over TCP with
no user and no token, each request carries a fresh MUNGE credential (as det
does on a cluster), when the munge command is there."""

import base64
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
import urllib.parse

from determined import _http
from determined.core._checkpoint import _sha256

DEFAULT_MASTER = "unix:/run/det-slurm/master.sock"
TERMINAL = ("COMPLETED", "CANCELED", "ERROR")


class SDKError(Exception):
    """A call the master refused, or a result that is not what it should be."""


class Determined:
    """A session with one master."""

    def __init__(self, master=None, user=None, password=None, token=None):
        self.master = master or os.environ.get("DET_MASTER") or DEFAULT_MASTER
        if user is not None:
            anon = _http.Session(self.master, "")
            try:
                ans = anon.post("/auth/login", {"username": user, "password": password or ""})
            except _http.MasterError as e:
                raise SDKError(f"login as {user}: {e}") from None
            token = ans.get("token")
            if not isinstance(token, str) or not token:
                raise SDKError(f"login as {user}: the master sent no token")
        use_munge = (not token and not self.master.startswith("unix:")
                     and shutil.which("munge") is not None)
        self._s = _http.Session(self.master, token or "", munge=use_munge)

    def _call(self, method, path, body=None):
        try:
            return self._s.request(method, path, body, retry_seconds=30)
        except _http.MasterError as e:
            raise SDKError(str(e)) from None

    def create_experiment(self, config, model_dir, activate=True):
        """Submit config (a dict, YAML text or a path to a YAML file) with the files of
        model_dir; the Experiment."""
        if isinstance(config, dict):
            text = json.dumps(config)  # JSON is YAML
        elif isinstance(config, (str, os.PathLike)) and os.path.isfile(config):
            with open(config, encoding="utf-8") as f:
                text = f.read()
        elif isinstance(config, str):
            text = config
        else:
            raise TypeError("config: a dict, YAML text or the path of a YAML file")
        if not os.path.isdir(model_dir):
            raise SDKError(f"model_dir {model_dir!r}: not a directory")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for name in sorted(os.listdir(model_dir)):
                tar.add(os.path.join(model_dir, name), arcname=name)
        body = {"config": text, "activate": bool(activate),
                "model_definition": base64.b64encode(buf.getvalue()).decode()}
        ans = self._call("POST", "/experiments", body)
        if not isinstance(ans.get("id"), int):
            raise SDKError("create_experiment: the master sent no experiment id")
        return Experiment(self, ans["id"])

    def get_experiment(self, experiment_id):
        exp = Experiment(self, int(experiment_id))
        exp.reload()
        return exp

    def get_experiments(self):
        ans = self._call("GET", "/experiments?limit=1000")
        return [Experiment(self, e["id"], e) for e in ans.get("experiments", [])]

    def get_trial(self, trial_id):
        ans = self._call("GET", f"/trials/{int(trial_id)}")
        return Trial(self, ans["trial"])

    def get_checkpoint(self, uuid):
        return Checkpoint(self, self._call("GET", f"/checkpoints/{uuid}"))

    def create_model(self, name, description=""):
        """A new model in the registry; the Model."""
        ans = self._call("POST", "/models", {"name": name, "description": description})
        return Model(self, ans["model"])

    def get_model(self, name):
        """The registered model called name."""
        return Model(self, self._call("GET", f"/models/{urllib.parse.quote(name, safe='')}")["model"])

    def get_models(self):
        return [Model(self, m) for m in self._call("GET", "/models").get("models", [])]


class Experiment:
    def __init__(self, session, experiment_id, view=None):
        self._d = session
        self.id = experiment_id
        self._view = view or {}

    def reload(self):
        self._view = self._d._call("GET", f"/experiments/{self.id}")["experiment"]
        return self

    @property
    def state(self):
        return self.reload()._view.get("state")

    def wait(self, interval=1.0, timeout=None):
        """Poll until the experiment ends; its final state."""
        give_up = None if timeout is None else time.monotonic() + timeout
        while True:
            s = self.state
            if s in TERMINAL:
                return s
            if give_up is not None and time.monotonic() >= give_up:
                raise SDKError(f"experiment {self.id}: still {s} after {timeout} s")
            time.sleep(interval)

    def pause(self):
        self._d._call("POST", f"/experiments/{self.id}/pause")

    def activate(self):
        self._d._call("POST", f"/experiments/{self.id}/activate")

    def kill(self):
        self._d._call("POST", f"/experiments/{self.id}/kill")

    def list_trials(self):
        ans = self._d._call("GET", f"/experiments/{self.id}/trials")
        return [Trial(self._d, t) for t in ans.get("trials", [])]

    def _smaller_is_better(self):
        srch = (self.reload()._view.get("config") or {}).get("searcher") or {}
        return srch.get("smaller_is_better", True) is not False

    def top_checkpoint(self):
        """The best checkpoint of the trial with the best searcher metric."""
        smaller = self._smaller_is_better()
        trials = [t for t in self.list_trials() if isinstance(t.best_metric, (int, float))]
        if not trials:
            raise SDKError(f"experiment {self.id}: no trial has validated")
        best = (min if smaller else max)(trials, key=lambda t: t.best_metric)
        return best.top_checkpoint(smaller_is_better=smaller)


class Trial:
    def __init__(self, session, view):
        self._d = session
        self._view = view
        self.id = view["id"]
        self.experiment_id = view.get("experiment_id")
        self.state = view.get("state")
        self.best_metric = view.get("best_metric")

    def iter_metrics(self, group="validation"):
        ans = self._d._call("GET", f"/trials/{self.id}/metrics?group={group}&limit=10000")
        yield from ans.get("metrics", [])

    def logs(self):
        ans = self._d._call("GET", f"/trials/{self.id}/logs?limit=10000")
        for entry in ans.get("logs", []):
            yield entry.get("line", "")

    def top_checkpoint(self, smaller_is_better=True):
        """The checkpoint at the trial's best validation of the searcher metric (else its
        latest checkpoint)."""
        ckpts = self._d._call("GET", f"/trials/{self.id}/checkpoints").get("checkpoints", [])
        ckpts = [c for c in ckpts if c.get("state", "COMPLETED") == "COMPLETED"]
        if not ckpts:
            raise SDKError(f"trial {self.id}: no checkpoint")
        exp = self._d._call("GET", f"/experiments/{self.experiment_id}")["experiment"]
        metric = exp.get("searcher_metric")
        by_steps = {c["steps_completed"]: c for c in ckpts}
        vals = [(m["metrics"][metric], m["steps_completed"]) for m in self.iter_metrics()
                if isinstance(m.get("metrics"), dict) and metric in m["metrics"]
                and m.get("steps_completed") in by_steps]
        if vals:
            steps = (min if smaller_is_better else max)(vals)[1]
            return Checkpoint(self._d, by_steps[steps])
        return Checkpoint(self._d, max(ckpts, key=lambda c: c["steps_completed"]))


class Checkpoint:
    def __init__(self, session, record):
        self._d = session
        self.uuid = record["uuid"]
        self.steps_completed = record.get("steps_completed")
        self.metadata = record.get("metadata") or {}
        self._record = record

    def _full(self):
        if not isinstance(self._record.get("files"), list) or not self._record.get("path"):
            self._record = self._d._call("GET", f"/checkpoints/{self.uuid}")
        return self._record

    def download(self, path=None):
        """Copy the checkpoint's files into path (default checkpoints/<uuid>), each checked
        against the registry's size and SHA-256; nothing is left on a failure. The path."""
        rec = self._full()
        src = os.path.realpath(rec["path"])
        dest = os.fspath(path or os.path.join("checkpoints", self.uuid))
        if os.path.exists(dest) and os.listdir(dest):
            raise SDKError(f"download: {dest} exists and is not empty")
        parent = os.path.dirname(os.path.abspath(dest))
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".download-", dir=parent)
        try:
            for entry in rec["files"]:
                rel = entry.get("path") if isinstance(entry, dict) else None
                if not isinstance(rel, str) or rel.startswith("/") or ".." in rel.split("/"):
                    raise SDKError(f"checkpoint {self.uuid}: malformed file entry {rel!r}")
                full = os.path.join(src, rel)
                if os.path.realpath(full) != os.path.normpath(full) or os.path.islink(full):
                    raise SDKError(f"checkpoint {self.uuid}: {rel} is a link")
                out = os.path.join(tmp, rel)
                os.makedirs(os.path.dirname(out), exist_ok=True)
                shutil.copyfile(full, out)
                digest, size = _sha256(out)
                if size != entry.get("size") or digest != str(entry.get("sha256", "")).lower():
                    raise SDKError(f"checkpoint {self.uuid}: {rel} does not match the registry")
            with open(os.path.join(tmp, "metadata.json"), "w", encoding="utf-8") as f:
                json.dump(rec, f, indent=2, sort_keys=True)
            if os.path.isdir(dest):
                os.rmdir(dest)
            os.rename(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return dest


class Model:
    """A model of the registry (as Determined's Model): named, with numbered versions."""

    def __init__(self, session, view):
        self._d = session
        self.name = view["name"]
        self.description = view.get("description", "")
        self._view = view

    def _path(self):
        return f"/models/{urllib.parse.quote(self.name, safe='')}"

    def register_version(self, checkpoint):
        """Make checkpoint (a Checkpoint or its uuid) the next version; the ModelVersion.
        The registry keeps the checkpoint from garbage collection."""
        uuid = checkpoint.uuid if isinstance(checkpoint, Checkpoint) else str(checkpoint)
        ans = self._d._call("POST", self._path() + "/versions", {"checkpoint_uuid": uuid})
        return ModelVersion(self._d, self, ans)

    def list_versions(self):
        view = self._d._call("GET", self._path())["model"]
        return [ModelVersion(self._d, self, v) for v in view.get("versions", [])]

    def get_version(self, version=None):
        """Version number version, or the latest; None when there is none."""
        versions = self.list_versions()
        if version is not None:
            versions = [v for v in versions if v.model_version == int(version)]
        return max(versions, key=lambda v: v.model_version) if versions else None


class ModelVersion:
    """One version of a Model; .checkpoint is its Checkpoint."""

    def __init__(self, session, model, view):
        self._d = session
        self.model = model
        self.model_version = int(view["version"])
        self._uuid = view["checkpoint_uuid"]

    @property
    def checkpoint(self):
        return self._d.get_checkpoint(self._uuid)


_default = {}


def login(master=None, user=None, password=None, token=None):
    """Set the module's default session (as Determined's client.login)."""
    _default["d"] = Determined(master, user, password, token)
    return _default["d"]


def _session():
    if "d" not in _default:
        _default["d"] = Determined()
    return _default["d"]


def create_experiment(config, model_dir, activate=True):
    return _session().create_experiment(config, model_dir, activate)


def get_experiment(experiment_id):
    return _session().get_experiment(experiment_id)


def get_experiments():
    return _session().get_experiments()


def get_trial(trial_id):
    return _session().get_trial(trial_id)


def get_checkpoint(uuid):
    return _session().get_checkpoint(uuid)


def create_model(name, description=""):
    return _session().create_model(name, description)


def get_model(name):
    return _session().get_model(name)


def get_models():
    return _session().get_models()


def stream_trials_training_metrics(trial_ids):
    for tid in trial_ids:
        yield from get_trial(tid).iter_metrics("training")


def stream_trials_validation_metrics(trial_ids):
    for tid in trial_ids:
        yield from get_trial(tid).iter_metrics("validation")
