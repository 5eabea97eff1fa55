#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Layers of det-master, read from its sources: the engine and the modules it
# calls answer with enum exp_status (exp.h) and only the api layer
# (master/api*.c) turns a status into HTTP; outside the code that loads and
# swaps an experiment's row, its state, owner, project, number of tasks and
# restart budget are read from the typed fields of its record (struct
# exp_rt), not parsed from the JSON row.
set -u
. "$(dirname "$0")/master-lib.sh"

engine=$(cd "$srcdir" && ls master/exp*.[ch] master/lifecycle.[ch] master/workspace.[ch] \
	master/model.[ch] master/template.[ch] master/store*.[ch] master/ckpt_*.[ch])
check "the engine's sources are there" test -n "$engine"

# Code lines (not comments) that use a status code as a value.
http_codes() {
	(cd "$srcdir" && grep -nE '(=|==|!=|return|\?|:)[[:space:]]*(200|201|400|401|403|404|409|429|500|503)[[:space:]]*[;:)]' \
		$engine) | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)'
}
found=$(http_codes)
eq "no HTTP status code in the engine's modules" "" "$found"
found=$(cd "$srcdir" && grep -ln 'exp_status_of_http\|int \*status' $engine)
eq "no conversion from HTTP back to an engine status" "" "$found"
found=$(cd "$srcdir" && grep -nE '(e|exp)->row, "(state|owner_id|project_id|num_tasks)"|exp_config_of\(e\), "max_restarts"' master/*.c |
	grep -v '^master/exp_state.c:\|^master/exp_load.c:' |
	grep -v 'json_object_set')
eq "an experiment's state, owner, project, tasks and restart budget are read from its typed record" "" "$found"
echo "1..$tap_n"
exit $((tap_failed > 0))
