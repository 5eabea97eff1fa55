#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Trials run end to end by a real det-master and det-launch: the C example
# with its metrics, logs and verified checkpoints; the plain-Python Core API
# example; a two-rank Python trial using distributed.allgather; hostile
# model tarballs refused with a clear error.
set -u
. "$(dirname "$0")/trial-lib.sh"
skip_all_unless_ready 17
start_master || exit 1

# 1. The C example, one trial.
mkdir -p "$work/fm"
cp "$srcdir/examples/fashion-mnist/README.md" "$work/fm/"
pack "$work/fm" "$work/fm.tgz"
fm_config c-const 300 >"$work/c.yaml"
id=$(create_exp "$work/c.yaml" "$work/fm.tgz")
eq "the C example completes" COMPLETED "$(wait_exp "$id" 120)"
t=$(trial_json "$id")
eq "its trial trained the searcher's length" 300 "$(jq '.[0].steps_completed' <<<"$t")"
tid=$(jq '.[0].id' <<<"$t")
eq "three validations reported, with the batches time metric" "100 200 300" \
	"$(validations "$tid" | jq -r 'map(.metrics.batches | tostring) | join(" ")')"
api GET "/trials/$tid/logs"
jq -e '[.logs[] | select(.line | test("batch 300: validation loss .* test loss"))] | length == 1' \
	<"$work/body" >/dev/null
ok $? "the trial's output reached the master's log, test accuracy at the end"
uuid=$(jq -r '.[0].latest_checkpoint' <<<"$t")
api GET "/checkpoints/$uuid"
path=$(body .path)
want=$(body '.files[] | select(.path == "model.bin") | .sha256')
eq "the registered SHA-256 is the file's" "$want" "$(sha256sum "$path/model.bin" | cut -d' ' -f1)"

# 2. The plain-Python Core API example.
mkdir -p "$work/py"
cp "$srcdir/examples/python-core-api/train.py" "$work/py/"
pack "$work/py" "$work/py.tgz"
sed -e 's/batches: 200/batches: 40/' -e 's/examples: 6000/examples: 1200/' \
	-e 's/validation_period: 50/validation_period: 20/' \
	"$srcdir/examples/python-core-api/const.yaml" >"$work/py.yaml"
id=$(create_exp "$work/py.yaml" "$work/py.tgz")
eq "the Python Core API example completes" COMPLETED "$(wait_exp "$id" 120)"
t=$(trial_json "$id")
eq "its trial reached the length" 40 "$(jq '.[0].steps_completed' <<<"$t")"
check_ckpt=$(jq -r '.[0].latest_checkpoint' <<<"$t")
api GET "/checkpoints/$check_ckpt"
eq "its checkpoint is registered with its file" state.json "$(body '.files[0].path')"

# 2b. The same example killed with SIGKILL after its first checkpoint: the
# restart restores through the Python package (registry lookup and checks).
cat >"$work/py/killer.sh" <<'SH'
if [ -n "$DET_LATEST_CHECKPOINT" ]; then
	exec python3 train.py
fi
before=$(ls "$DET_CHECKPOINT_DIR" 2>/dev/null | wc -l)
python3 train.py &
p=$!
until [ "$(ls "$DET_CHECKPOINT_DIR" 2>/dev/null | wc -l)" -gt "$before" ]; do sleep 0.01; done
sleep 0.2
kill -9 $p
wait $p
SH
pack "$work/py" "$work/py.tgz"
sed -e 's/^entrypoint: .*/entrypoint: [sh, killer.sh]/' -e 's/batches: 40/batches: 200/' \
	"$work/py.yaml" >"$work/pykill.yaml"
id=$(create_exp "$work/pykill.yaml" "$work/py.tgz")
eq "the killed Python trial completes after a restart" "COMPLETED 1 200" \
	"$(wait_exp "$id" 180) $(trial_json "$id" | jq -r '.[0] | "\(.restarts) \(.steps_completed)"')"
tid=$(jq '.[0].id' <<<"$(trial_json "$id")")
api GET "/trials/$tid/logs?limit=10000"
jq -e '[.logs[] | select(.line | test("resumed at batch [1-9][0-9]* from "))] | length == 1' \
	<"$work/body" >/dev/null
ok $? "it resumed from its verified checkpoint"

# 3. Two ranks (mpirun under the local resource manager) and allgather.
mkdir -p "$work/dist"
cat >"$work/dist/dist.py" <<'PY'
import determined as det
with det.core.init() as core:
    d = core.distributed
    everyone = d.allgather({"rank": d.rank, "local": d.local_rank})
    print("rank", d.rank, "sees", everyone, flush=True)
    total = sum(e["rank"] for e in everyone)
    for op in core.searcher.operations():
        core.train.report_validation_metrics(
            op.length, {"validation_loss": 1.0, "ranks": float(len(everyone)), "sum": float(total)})
        if d.rank == 0:
            op.report_completed(1.0)
PY
pack "$work/dist" "$work/dist.tgz"
cat >"$work/dist.yaml" <<'YAML'
name: two-ranks
entrypoint: [python3, dist.py]
resources:
  slots_per_trial: 2
searcher:
  name: single
  metric: validation_loss
  max_length:
    batches: 1
max_restarts: 0
YAML
id=$(create_exp "$work/dist.yaml" "$work/dist.tgz")
eq "the two-rank trial completes" COMPLETED "$(wait_exp "$id" 120)"
tid=$(jq '.[0].id' <<<"$(trial_json "$id")")
eq "allgather saw both ranks; only the chief reported" "2 1 1" \
	"$(validations "$tid" | jq -r '"\(.[0].metrics.ranks) \(.[0].metrics.sum) \(length)"')"
api GET "/trials/$tid/logs"
eq "both ranks' output is in the trial's log" "0 1" \
	"$(jq -r '[.logs[] | select(.line | test("sees")) | .rank] | sort | map(tostring) | join(" ")' <"$work/body")"

# 3b. Rank 1 crashes on the first run: rank 0 is stopped too, the exit is
# reported once, and both ranks run the trial again (the next generation).
cat >"$work/dist/crash1.sh" <<'SH'
# first run (no marker yet): rank 1 fails at once, rank 0 would take long
if [ ! -e "ran-$DET_RANK" ]; then
	: >"ran-$DET_RANK"
	[ "$DET_RANK" = 1 ] && exit 3
	sleep 30
fi
exec python3 dist.py
SH
pack "$work/dist" "$work/dist.tgz"
sed -e 's/^entrypoint: .*/entrypoint: [sh, crash1.sh]/' -e 's/max_restarts: 0/max_restarts: 1/' \
	"$work/dist.yaml" >"$work/dist2.yaml"
id=$(create_exp "$work/dist2.yaml" "$work/dist.tgz")
eq "a two-rank trial whose rank 1 crashed restarts and completes" "COMPLETED 1" \
	"$(wait_exp "$id" 120) $(trial_json "$id" | jq -r '.[0].restarts')"
tid=$(jq '.[0].id' <<<"$(trial_json "$id")")
eq "the restarted generation saw both ranks" "2 1" \
	"$(validations "$tid" | jq -r '"\(.[0].metrics.ranks) \(length)"')"

# 4. Hostile model definitions: refused with a clear error, nothing written outside.
hostile() { # NAME PYTHON-TARFILE-CODE
	python3 - "$work/$1.tgz" "$2" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    exec(sys.argv[2])
PY
}
hostile dotdot 'ti = tarfile.TarInfo("../escaped"); ti.size = 1; t.addfile(ti, io.BytesIO(b"x"))'
hostile symlink 'ti = tarfile.TarInfo("link"); ti.type = tarfile.SYMTYPE; ti.linkname = "/etc"; t.addfile(ti)'
for kind in dotdot symlink; do
	cat >"$work/$kind.yaml" <<YAML
name: hostile-$kind
entrypoint: "true"
searcher: {name: single, metric: m, max_length: {batches: 1}}
max_restarts: 0
YAML
	id=$(create_exp "$work/$kind.yaml" "$work/$kind.tgz")
	if [ -z "$id" ]; then
		ok 0 "hostile tarball ($kind) refused when the experiment is created"
		continue
	fi
	wait_exp "$id" 60 >/dev/null
	logs=$(cat "$work"/state/task-logs/e"$id"-task*.log 2>/dev/null)
	case $kind in
	dotdot) grep -q 'model definition: entry "../escaped": path contains ".."' <<<"$logs" &&
		[ ! -e "$HOME/.det-slurm/run/escaped" ] ;;
	symlink) grep -q 'model definition: entry "link": symlink to "/etc" leaves the directory' <<<"$logs" ;;
	esac
	ok $? "hostile tarball ($kind) refused by det-launch with a clear error"
done
stop_master
