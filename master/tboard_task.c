/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A TensorBoard task's argv, built without I/O so that its tests need no master:
 * each trial is one named run of --logdir_spec, "trial-T:DIR", DIR being where
 * the master writes the trial's event files (tboard_trial_dir, the one rule).
 * Non-obvious decision: TensorBoard splits the spec at ',' and a name from its
 * directory at ':', and has no quoting; a directory holding either is refused
 * rather than passed on to show some other directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tboard.h"
#include "tboard_task.h"

#define TBOARD_TASK_DIR_MAX 4096

/* runs as "trial-T:DIR,..." (malloc'd), or NULL with err. */
static char *logdir_spec(const struct tboard_task_run *runs, size_t n, char *err, size_t errlen)
{
	char dir[TBOARD_TASK_DIR_MAX], *spec = NULL;
	size_t len = 0, cap = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tboard_task_run *r = &runs[i];
		if (!r->ckpt_dir || r->ckpt_dir[0] != '/' ||
		    tboard_trial_dir(r->ckpt_dir, r->exp_id, r->trial_id, dir, sizeof(dir))) {
			snprintf(err, errlen,
			         "trial %lld: its checkpoint directory is not an absolute path "
			         "under %d bytes",
			         (long long)r->trial_id, TBOARD_TASK_DIR_MAX);
			goto fail;
		}
		if (strpbrk(dir, ",:")) {
			snprintf(err, errlen,
			         "trial %lld: its event directory %.256s holds ',' or ':', which "
			         "TensorBoard's --logdir_spec cannot carry",
			         (long long)r->trial_id, dir);
			goto fail;
		}
		char item[TBOARD_TASK_DIR_MAX + 64];
		int k = snprintf(item, sizeof(item), "%strial-%lld:%s", i ? "," : "",
		                 (long long)r->trial_id, dir);
		if (k < 0 || (size_t)k >= sizeof(item))
			goto nomem;
		if (len + (size_t)k + 1 > cap) {
			size_t ncap = (len + (size_t)k + 1) * 2;
			char *p = realloc(spec, ncap);
			if (!p)
				goto nomem;
			spec = p;
			cap = ncap;
		}
		memcpy(spec + len, item, (size_t)k + 1);
		len += (size_t)k;
	}
	return spec;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	free(spec);
	return NULL;
}

char **tboard_task_argv(const struct tboard_task_run *runs, size_t n, int64_t task_id, int port,
                        char *err, size_t errlen)
{
	char port_s[16], prefix[64];
	char **argv = NULL;
	const char *fixed[] = {"tensorboard", "--logdir_spec", NULL,
	                       "--host",      "127.0.0.1",     "--port",
	                       port_s,        "--path_prefix", prefix};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);

	if (n == 0 || n > TBOARD_TASK_MAX_RUNS) {
		snprintf(err, errlen,
		         "a TensorBoard shows 1..%d trials: the experiments named have %zu",
		         TBOARD_TASK_MAX_RUNS, n);
		return NULL;
	}
	if (port < 0 || port > 65535 || task_id < 0) {
		snprintf(err, errlen, "TensorBoard port %d or task id %lld out of range", port,
		         (long long)task_id);
		return NULL;
	}
	snprintf(port_s, sizeof(port_s), "%d", port);
	snprintf(prefix, sizeof(prefix), "/proxy/%lld", (long long)task_id);
	argv = calloc(nfixed + 1, sizeof(*argv));
	if (!argv || !(argv[2] = logdir_spec(runs, n, err, errlen)))
		goto fail;
	for (size_t i = 0; i < nfixed; i++) {
		if (i != 2 && !(argv[i] = strdup(fixed[i]))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	return argv;
fail:
	if (!argv)
		snprintf(err, errlen, "out of memory");
	tboard_task_argv_free(argv);
	return NULL;
}

void tboard_task_argv_free(char **argv)
{
	if (!argv)
		return;
	for (size_t i = 0; i < TBOARD_TASK_PREFIX_ARG + 1; i++)
		free(argv[i]);
	free(argv);
}
