/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spank_det's one option table (--det-experiment, --det-pool, --det-slots)
 * and the values its callbacks store. Main data structure: one static
 * struct det_spank_options per process (options arrive through callbacks
 * that get no handle). Non-obvious decision: callbacks validate and copy,
 * and accept the same option twice (sbatch and slurmstepd may both replay it).
 */
#include "spank_det.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

enum det_option_id { OPT_EXPERIMENT, OPT_POOL, OPT_SLOTS };

static struct det_spank_options options;

/* Decimal digits, no sign or leading zero, value at most max ("0" if allow_zero). */
static int valid_number(const char *s, unsigned long max, int allow_zero)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 10)
		return 0;
	if (s[0] == '0')
		return allow_zero && n == 1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= max;
}

static int valid_pool(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(options.pool))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return 0;
	return 1;
}

static int option_cb(int val, const char *optarg, int remote)
{
	const char *v = optarg ? optarg : "";

	switch (val) {
	case OPT_EXPERIMENT:
		if (!valid_number(v, 2147483647ul, 0)) {
			slurm_error(DET_SPANK_PREFIX
			            "--det-experiment wants a positive integer, got '%s'",
			            v);
			return -1;
		}
		snprintf(options.experiment, sizeof(options.experiment), "%s", v);
		return 0;
	case OPT_POOL:
		if (!valid_pool(v)) {
			slurm_error(DET_SPANK_PREFIX
			            "--det-pool wants a name of [A-Za-z0-9_.-], got '%s'",
			            v);
			return -1;
		}
		snprintf(options.pool, sizeof(options.pool), "%s", v);
		return 0;
	case OPT_SLOTS:
		if (!valid_number(v, 4096, 1)) {
			slurm_error(
			    DET_SPANK_PREFIX "--det-slots wants a number of slots, got '%s'", v);
			return -1;
		}
		snprintf(options.slots, sizeof(options.slots), "%s", v);
		return 0;
	default:
		return -1;
	}
}

static struct spank_option option_table[] = {
    {"det-experiment", "ID", "run as part of det experiment ID (set by det submit)", 1,
     OPT_EXPERIMENT, option_cb},
    {"det-pool", "POOL", "det resource pool of the experiment", 1, OPT_POOL, option_cb},
    {"det-slots", "N", "slots (GPUs, or CPUs in a CPU pool) per trial", 1, OPT_SLOTS, option_cb},
};

int det_options_register(spank_t sp)
{
	for (size_t i = 0; i < sizeof(option_table) / sizeof(option_table[0]); i++) {
		spank_err_t rc = spank_option_register(sp, &option_table[i]);
		if (rc != ESPANK_SUCCESS) {
			slurm_error(DET_SPANK_PREFIX "cannot register --%s: %s",
			            option_table[i].name, spank_strerror(rc));
			return -1;
		}
	}
	return 0;
}

const struct det_spank_options *det_options_get(void)
{
	return &options;
}

static int set_control(spank_t sp, const char *name, const char *value)
{
	spank_err_t rc;

	if (!value[0])
		return 0;
	rc = spank_job_control_setenv(sp, name, value, 1);
	if (rc != ESPANK_SUCCESS) {
		slurm_error(DET_SPANK_PREFIX "cannot set %s in the job control env: %s", name,
		            spank_strerror(rc));
		return -1;
	}
	return 0;
}

int det_options_to_job_control(spank_t sp)
{
	if (!options.experiment[0])
		return 0;
	if (set_control(sp, DET_SPANK_ENV_EXPERIMENT, options.experiment) < 0 ||
	    set_control(sp, DET_SPANK_ENV_POOL, options.pool) < 0 ||
	    set_control(sp, DET_SPANK_ENV_SLOTS, options.slots) < 0)
		return -1;
	return 0;
}
