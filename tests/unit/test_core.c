/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdetcore in off-cluster mode: environment parsing, hyperparameters,
 * metrics/progress/early-exit records, preemption via the flag file, and
 * checkpoints (atomic commit, checksums, verified restore, corruption found,
 * leftovers of a writer that died removed at the next start).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "det/core.h"
#include "unit_tmpdir.h"

struct fixture {
	char dir[64];
};

static const char *const det_vars[] = {
    "DET_MASTER",
    "DET_SESSION_TOKEN",
    "DET_TRIAL_ID",
    "DET_EXPERIMENT_ID",
    "DET_TRIAL_SEED",
    "DET_HPARAMS",
    "DET_LATEST_CHECKPOINT",
    "DET_STEPS_COMPLETED",
    "DET_CHECKPOINT_DIR",
    "DET_RANK",
    "DET_SIZE",
    "DET_LOCAL_RANK",
    "DET_LOCAL_SIZE",
    "DET_CROSS_RANK",
    "DET_CROSS_SIZE",
    "DET_PREEMPT_FILE",
    "DET_EARLY_EXIT_FILE",
    "DET_SEARCHER_LENGTH",
    "DET_SEARCHER_UNIT",
    "DET_LOCAL_DIR",
};

static int setup(void **state)
{
	struct fixture *f = unit_dir_fixture_new(sizeof(*f), sizeof(f->dir), "test_core_");
	if (!f)
		return -1;
	for (size_t i = 0; i < sizeof(det_vars) / sizeof(det_vars[0]); i++)
		unsetenv(det_vars[i]);
	setenv("DET_LOCAL_DIR", f->dir, 1);
	*state = f;
	return 0;
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	if (buf)
		(void)!fread(buf, 1, (1 << 16) - 1, fp);
	fclose(fp);
	return buf;
}

static struct det_core *init_ok(void)
{
	char err[256] = "";
	struct det_core *c = det_core_init(err, sizeof(err));
	if (!c)
		fail_msg("det_core_init: %s", err);
	return c;
}

static void expect_init_error(const char *needle)
{
	char err[256] = "";
	struct det_core *c = det_core_init(err, sizeof(err));
	assert_null(c);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_defaults_off_cluster_single_process(void **state)
{
	struct det_core *c = init_ok();
	struct det_core_dist d = det_core_distributed(c);
	assert_true(det_core_off_cluster(c));
	assert_int_equal(d.rank, 0);
	assert_int_equal(d.size, 1);
	assert_int_equal(d.local_size, 1);
	assert_int_equal(d.cross_size, 1);
	assert_string_equal(det_core_hparams_json(c), "{}");
	assert_null(det_core_latest_checkpoint(c));
	assert_int_equal(det_core_steps_completed(c), 0);
	assert_int_equal(det_core_searcher_length(c), 0);
	assert_string_equal(det_core_searcher_unit(c), "batches");
	assert_false(det_core_should_preempt(c));
	det_core_free(c);
}

static void test_environment_values_are_read(void **state)
{
	setenv("DET_TRIAL_ID", "7", 1);
	setenv("DET_EXPERIMENT_ID", "3", 1);
	setenv("DET_TRIAL_SEED", "18446744073709551615", 1);
	setenv("DET_STEPS_COMPLETED", "120", 1);
	setenv("DET_SEARCHER_LENGTH", "500", 1);
	setenv("DET_RANK", "3", 1);
	setenv("DET_SIZE", "4", 1);
	setenv("DET_LOCAL_RANK", "1", 1);
	setenv("DET_LOCAL_SIZE", "2", 1);
	setenv("DET_CROSS_RANK", "1", 1);
	setenv("DET_CROSS_SIZE", "2", 1);
	struct det_core *c = init_ok();
	struct det_core_dist d = det_core_distributed(c);
	assert_int_equal(det_core_trial_id(c), 7);
	assert_int_equal(det_core_experiment_id(c), 3);
	assert_true(det_core_trial_seed(c) == UINT64_MAX);
	assert_int_equal(det_core_steps_completed(c), 120);
	assert_int_equal(det_core_searcher_length(c), 500);
	assert_int_equal(d.rank, 3);
	assert_int_equal(d.size, 4);
	assert_int_equal(d.local_rank, 1);
	assert_int_equal(d.cross_rank, 1);
	det_core_free(c);
}

static void test_malformed_environment_is_an_error_naming_the_variable(void **state)
{
	setenv("DET_RANK", "abc", 1);
	expect_init_error("DET_RANK");
	setenv("DET_RANK", "2", 1);
	setenv("DET_SIZE", "2", 1);
	expect_init_error("DET_RANK=2 is not below DET_SIZE=2");
	unsetenv("DET_RANK");
	unsetenv("DET_SIZE");
	setenv("DET_STEPS_COMPLETED", "-1", 1);
	expect_init_error("DET_STEPS_COMPLETED");
	unsetenv("DET_STEPS_COMPLETED");
	setenv("DET_HPARAMS", "[1,2]", 1);
	expect_init_error("DET_HPARAMS");
	setenv("DET_HPARAMS", "{\"a\":", 1);
	expect_init_error("DET_HPARAMS");
	unsetenv("DET_HPARAMS");
	setenv("DET_TRIAL_SEED", "-5", 1);
	expect_init_error("DET_TRIAL_SEED");
	unsetenv("DET_TRIAL_SEED");
	setenv("DET_MASTER", "http://127.0.0.1:1", 1);
	expect_init_error("DET_CHECKPOINT_DIR");
	setenv("DET_CHECKPOINT_DIR", "/tmp", 1);
	expect_init_error("DET_SESSION_TOKEN");
}

static void test_hyperparameters_by_type_and_nested_name(void **state)
{
	setenv("DET_HPARAMS",
	       "{\"lr\": 0.01, \"hidden\": 64, \"batch\": 32.0, \"opt\": \"sgd\","
	       " \"arch\": {\"layers\": {\"n\": 3}}}",
	       1);
	struct det_core *c = init_ok();
	char err[256], s[8];
	double d;
	int64_t i;
	assert_int_equal(det_core_hparam_double(c, "lr", &d, err, sizeof(err)), 0);
	assert_true(d == 0.01);
	assert_int_equal(det_core_hparam_double(c, "hidden", &d, err, sizeof(err)), 0);
	assert_true(d == 64.0);
	assert_int_equal(det_core_hparam_int(c, "hidden", &i, err, sizeof(err)), 0);
	assert_int_equal(i, 64);
	assert_int_equal(det_core_hparam_int(c, "batch", &i, err, sizeof(err)), 0);
	assert_int_equal(i, 32);
	assert_int_equal(det_core_hparam_int(c, "arch.layers.n", &i, err, sizeof(err)), 0);
	assert_int_equal(i, 3);
	assert_int_equal(det_core_hparam_string(c, "opt", s, sizeof(s), err, sizeof(err)), 0);
	assert_string_equal(s, "sgd");
	assert_int_equal(det_core_hparam_int(c, "lr", &i, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an integer"));
	assert_int_equal(det_core_hparam_double(c, "opt", &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a number"));
	assert_int_equal(det_core_hparam_double(c, "missing", &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing: not set"));
	assert_int_equal(det_core_hparam_int(c, "arch.nope.n", &i, err, sizeof(err)), -1);
	assert_int_equal(det_core_hparam_int(c, "arch..n", &i, err, sizeof(err)), -1);
	assert_int_equal(det_core_hparam_string(c, "opt", s, 3, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	det_core_free(c);
}

static void test_metrics_are_appended_as_json_lines(void **state)
{
	struct fixture *f = *state;
	struct det_core *c = init_ok();
	char err[256], path[128];
	struct det_core_metric train[] = {{"loss", 0.5}};
	struct det_core_metric val[] = {{"validation_loss", 0.25}, {"accuracy", 0.75}};
	struct det_core_answer a = {1, 1};
	assert_int_equal(
	    det_core_report_metrics(c, DET_CORE_TRAINING, 10, train, 1, &a, err, sizeof(err)), 0);
	assert_false(a.stop);
	assert_false(a.preempt);
	assert_int_equal(
	    det_core_report_metrics(c, DET_CORE_VALIDATION, 20, val, 2, NULL, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/metrics.jsonl", f->dir);
	char *text = read_text(path);
	assert_non_null(text);
	char *nl = strchr(text, '\n');
	assert_non_null(nl);
	*nl = '\0';
	json_t *first = json_loads(text, 0, NULL);
	json_t *second = json_loads(nl + 1, 0, NULL);
	assert_non_null(first);
	assert_non_null(second);
	assert_string_equal(json_string_value(json_object_get(first, "group")), "training");
	assert_int_equal(json_integer_value(json_object_get(first, "steps_completed")), 10);
	assert_true(json_real_value(json_object_get(json_object_get(first, "metrics"), "loss")) ==
	            0.5);
	assert_string_equal(json_string_value(json_object_get(second, "group")), "validation");
	assert_true(json_real_value(
	                json_object_get(json_object_get(second, "metrics"), "accuracy")) == 0.75);
	json_decref(first);
	json_decref(second);
	free(text);
	det_core_free(c);
}

static void test_bad_metrics_are_refused(void **state)
{
	struct det_core *c = init_ok();
	char err[256];
	struct det_core_metric nan_metric[] = {{"loss", 0.0 / 0.0}};
	struct det_core_metric unnamed[] = {{"", 1.0}};
	assert_int_equal(
	    det_core_report_metrics(c, DET_CORE_TRAINING, 1, nan_metric, 1, NULL, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "loss: not a finite number"));
	assert_int_equal(
	    det_core_report_metrics(c, DET_CORE_TRAINING, 1, unnamed, 1, NULL, err, sizeof(err)),
	    -1);
	assert_int_equal(
	    det_core_report_metrics(c, DET_CORE_TRAINING, -1, NULL, 0, NULL, err, sizeof(err)), -1);
	det_core_free(c);
}

static void test_progress_range_checked_and_recorded(void **state)
{
	struct fixture *f = *state;
	struct det_core *c = init_ok();
	char err[256], path[128];
	assert_int_equal(det_core_report_progress(c, 1.5, err, sizeof(err)), -1);
	assert_int_equal(det_core_report_progress(c, -0.1, err, sizeof(err)), -1);
	assert_int_equal(det_core_report_progress(c, 0.0 / 0.0, err, sizeof(err)), -1);
	assert_int_equal(det_core_report_progress(c, 0.5, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/progress.jsonl", f->dir);
	char *text = read_text(path);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"progress\":0.5"));
	free(text);
	det_core_free(c);
}

static void test_early_exit_leaves_reason_for_the_launcher(void **state)
{
	struct fixture *f = *state;
	char err[256], path[128];
	snprintf(path, sizeof(path), "%s/early-exit", f->dir);
	setenv("DET_EARLY_EXIT_FILE", path, 1);
	struct det_core *c = init_ok();
	assert_int_equal(det_core_early_exit(c, DET_CORE_EXIT_INVALID_HP, err, sizeof(err)), 0);
	char *text = read_text(path);
	assert_non_null(text);
	assert_string_equal(text, "INVALID_HP\n");
	free(text);
	assert_int_equal(det_core_early_exit(c, (enum det_core_exit_reason)42, err, sizeof(err)),
	                 -1);
	det_core_free(c);
}

static void test_preempt_file_makes_should_preempt_sticky(void **state)
{
	struct fixture *f = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/preempt", f->dir);
	setenv("DET_PREEMPT_FILE", path, 1);
	struct det_core *c = init_ok();
	assert_false(det_core_should_preempt(c));
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_true(det_core_should_preempt(c));
	unlink(path);
	assert_true(det_core_should_preempt(c));
	det_core_free(c);
}

static void test_sigterm_under_det_launch_is_a_preemption(void **state)
{
	struct fixture *f = *state;
	char path[128];
	sigset_t set;
	snprintf(path, sizeof(path), "%s/preempt-never-created", f->dir);
	setenv("DET_PREEMPT_FILE", path, 1);
	struct det_core *c = init_ok();
	assert_false(det_core_should_preempt(c));
	assert_int_equal(raise(SIGTERM), 0); /* held, so the process lives on */
	assert_true(det_core_should_preempt(c));
	det_core_free(c);
	/* take the pending signal and give the mask back to the other tests */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	assert_int_equal(sigwaitinfo(&set, NULL), SIGTERM);
	assert_int_equal(sigprocmask(SIG_UNBLOCK, &set, NULL), 0);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	assert_int_equal(unit_put(dir, name, text), 0);
}

/* Store a checkpoint with weights.bin and sub/opt.bin; uuid into out. */
static void store_checkpoint(struct det_core *c, char uuid[DET_CORE_UUID_BYTES])
{
	char err[256], sub[512];
	struct det_core_ckpt *ck = det_core_checkpoint_begin(c, err, sizeof(err));
	if (!ck)
		fail_msg("begin: %s", err);
	write_file(det_core_ckpt_path(ck), "weights.bin", "abc");
	snprintf(sub, sizeof(sub), "%s/sub", det_core_ckpt_path(ck));
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file(sub, "opt.bin", "");
	if (det_core_checkpoint_commit(c, ck, 42, "{\"epoch\": 2}", uuid, err, sizeof(err)) < 0)
		fail_msg("commit: %s", err);
}

static void test_checkpoint_commit_renames_and_records_checksums(void **state)
{
	struct fixture *f = *state;
	struct det_core *c = init_ok();
	char uuid[DET_CORE_UUID_BYTES], path[512], err[256];
	store_checkpoint(c, uuid);
	assert_int_equal(strlen(uuid), 36);
	assert_int_equal(uuid[14], '4');
	assert_string_equal(det_core_latest_checkpoint(c), uuid);
	snprintf(path, sizeof(path), "%s/checkpoints/.tmp-%s", f->dir, uuid);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/checkpoints/%s/metadata.json", f->dir, uuid);
	json_t *meta = json_load_file(path, 0, NULL);
	assert_non_null(meta);
	assert_int_equal(json_integer_value(json_object_get(meta, "steps_completed")), 42);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(meta, "metadata"), "epoch")), 2);
	json_t *files = json_object_get(meta, "files");
	assert_int_equal(json_array_size(files), 2);
	json_t *sub = json_array_get(files, 0), *w = json_array_get(files, 1);
	assert_string_equal(json_string_value(json_object_get(sub, "path")), "sub/opt.bin");
	assert_int_equal(json_integer_value(json_object_get(sub, "size")), 0);
	assert_string_equal(json_string_value(json_object_get(sub, "sha256")),
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_string_equal(json_string_value(json_object_get(w, "path")), "weights.bin");
	assert_int_equal(json_integer_value(json_object_get(w, "size")), 3);
	assert_string_equal(json_string_value(json_object_get(w, "sha256")),
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	json_decref(meta);
	char restored[512];
	assert_int_equal(
	    det_core_checkpoint_restore(c, uuid, restored, sizeof(restored), err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/checkpoints/%s", f->dir, uuid);
	assert_string_equal(restored, path);
	det_core_free(c);
}

static void test_restore_finds_changed_truncated_and_missing_files(void **state)
{
	struct fixture *f = *state;
	struct det_core *c = init_ok();
	char uuid[DET_CORE_UUID_BYTES], dir[256], path[512], err[256];
	store_checkpoint(c, uuid);
	snprintf(dir, sizeof(dir), "%s/checkpoints/%s", f->dir, uuid);
	write_file(dir, "weights.bin", "abd");
	assert_int_equal(det_core_checkpoint_restore(c, uuid, path, sizeof(path), err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "SHA-256"));
	write_file(dir, "weights.bin", "ab");
	assert_int_equal(det_core_checkpoint_restore(c, uuid, path, sizeof(path), err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "size 2, registered 3"));
	snprintf(path, sizeof(path), "%s/weights.bin", dir);
	unlink(path);
	assert_int_equal(det_core_checkpoint_restore(c, uuid, path, sizeof(path), err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "weights.bin"));
	det_core_free(c);
}

static void test_restore_refuses_ids_that_are_not_uuids(void **state)
{
	struct det_core *c = init_ok();
	char path[512], err[256];
	assert_int_equal(
	    det_core_checkpoint_restore(c, "../../etc", path, sizeof(path), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a uuid"));
	assert_int_equal(det_core_checkpoint_restore(c, "01234567-89ab-4def-8123-456789abcdef",
	                                             path, sizeof(path), err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "metadata.json"));
	det_core_free(c);
}

static void test_abort_removes_the_temporary_directory(void **state)
{
	struct det_core *c = init_ok();
	char err[256], tmp[512];
	struct det_core_ckpt *ck = det_core_checkpoint_begin(c, err, sizeof(err));
	assert_non_null(ck);
	snprintf(tmp, sizeof(tmp), "%s", det_core_ckpt_path(ck));
	write_file(tmp, "x", "1");
	det_core_checkpoint_abort(ck);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_null(det_core_latest_checkpoint(c));
	det_core_free(c);
}

static void test_checkpoint_with_a_symlink_is_refused(void **state)
{
	struct det_core *c = init_ok();
	char err[256], link_path[600], tmp[512], uuid[DET_CORE_UUID_BYTES];
	struct det_core_ckpt *ck = det_core_checkpoint_begin(c, err, sizeof(err));
	assert_non_null(ck);
	snprintf(tmp, sizeof(tmp), "%s", det_core_ckpt_path(ck));
	snprintf(link_path, sizeof(link_path), "%s/passwd", tmp);
	assert_int_equal(symlink("/etc/passwd", link_path), 0);
	assert_int_equal(det_core_checkpoint_commit(c, ck, 1, NULL, uuid, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "only regular files"));
	assert_int_equal(access(tmp, F_OK), -1);
	ck = det_core_checkpoint_begin(c, err, sizeof(err));
	assert_non_null(ck);
	assert_int_equal(det_core_checkpoint_commit(c, ck, 1, "[1]", uuid, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "metadata"));
	det_core_free(c);
}

/* dir/name as a directory holding one file; 0 or -1. */
static int make_tmp_dir(const char *dir, const char *name, time_t mtime)
{
	char path[512], file[600];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(file, sizeof(file), "%s/model.bin", path);
	if (mkdir(path, 0755) < 0)
		return -1;
	FILE *fp = fopen(file, "w");
	if (!fp)
		return -1;
	fputs("half written", fp);
	fclose(fp);
	struct timespec t[2] = {{mtime, 0}, {mtime, 0}};
	return mtime ? utimensat(AT_FDCWD, path, t, 0) : 0;
}

static int exists(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void test_leftovers_of_a_dead_writer_are_removed_at_start(void **state)
{
	struct fixture *f = *state;
	char ck[128], path[256], uuid[DET_CORE_UUID_BYTES];
	const char *dead = ".tmp-11111111-1111-4111-8111-111111111111";
	const char *live = ".tmp-22222222-2222-4222-8222-222222222222";
	const char *old = ".tmp-33333333-3333-4333-8333-333333333333";
	const char *recent = ".tmp-44444444-4444-4444-8444-444444444444";
	const char *lone_lock = ".tmp-55555555-5555-4555-8555-555555555555.lock";
	const char *done = "66666666-6666-4666-8666-666666666666";
	snprintf(ck, sizeof(ck), "%s/checkpoints", f->dir);
	assert_int_equal(mkdir(ck, 0755), 0);
	/* a writer that died: its lock file is there and nobody holds it */
	assert_int_equal(make_tmp_dir(ck, dead, 0), 0);
	snprintf(path, sizeof(path), "%s/%s.lock", ck, dead);
	int fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	/* a writer still at work (another trial): its lock is held */
	assert_int_equal(make_tmp_dir(ck, live, 0), 0);
	snprintf(path, sizeof(path), "%s/%s.lock", ck, live);
	int held = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(held >= 0);
	assert_int_equal(flock(held, LOCK_EX | LOCK_NB), 0);
	/* without a lock file (an older writer): removed only once old */
	assert_int_equal(make_tmp_dir(ck, old, time(NULL) - 3 * 24 * 3600), 0);
	assert_int_equal(make_tmp_dir(ck, recent, 0), 0);
	snprintf(path, sizeof(path), "%s/%s", ck, lone_lock);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(make_tmp_dir(ck, done, 0), 0);

	struct det_core *c = init_ok();
	assert_false(exists(ck, dead));
	snprintf(path, sizeof(path), "%s.lock", dead);
	assert_false(exists(ck, path));
	assert_true(exists(ck, live));
	assert_false(exists(ck, old));
	assert_true(exists(ck, recent));
	assert_false(exists(ck, lone_lock));
	assert_true(exists(ck, done));
	/* a checkpoint written now leaves no lock file behind */
	store_checkpoint(c, uuid);
	snprintf(path, sizeof(path), ".tmp-%s.lock", uuid);
	assert_false(exists(ck, path));
	assert_true(exists(ck, uuid));
	det_core_free(c);
	close(held);
}

static void test_checkpoint_dir_variable_overrides_local_dir(void **state)
{
	struct fixture *f = *state;
	char ckdir[128], uuid[DET_CORE_UUID_BYTES], path[512];
	snprintf(ckdir, sizeof(ckdir), "%s/elsewhere/deeper", f->dir);
	setenv("DET_CHECKPOINT_DIR", ckdir, 1);
	struct det_core *c = init_ok();
	store_checkpoint(c, uuid);
	snprintf(path, sizeof(path), "%s/%s/weights.bin", ckdir, uuid);
	assert_int_equal(access(path, F_OK), 0);
	det_core_free(c);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, unit_dir_fixture_free)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_defaults_off_cluster_single_process),
	    T(test_environment_values_are_read),
	    T(test_malformed_environment_is_an_error_naming_the_variable),
	    T(test_hyperparameters_by_type_and_nested_name),
	    T(test_metrics_are_appended_as_json_lines),
	    T(test_bad_metrics_are_refused),
	    T(test_progress_range_checked_and_recorded),
	    T(test_early_exit_leaves_reason_for_the_launcher),
	    T(test_preempt_file_makes_should_preempt_sticky),
	    T(test_sigterm_under_det_launch_is_a_preemption),
	    T(test_checkpoint_commit_renames_and_records_checksums),
	    T(test_restore_finds_changed_truncated_and_missing_files),
	    T(test_restore_refuses_ids_that_are_not_uuids),
	    T(test_abort_removes_the_temporary_directory),
	    T(test_checkpoint_with_a_symlink_is_refused),
	    T(test_checkpoint_dir_variable_overrides_local_dir),
	    T(test_leftovers_of_a_dead_writer_are_removed_at_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
