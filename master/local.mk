# SPDX-License-Identifier: GPL-2.0-or-later
# master: det-master, the REST API, store, state machines and resource managers.
# Everything but main.c goes into a convenience library that the unit tests link.
noinst_LTLIBRARIES += master/libdetmaster.la
master_libdetmaster_la_SOURCES = \
	master/master_config.c master/master_config.h \
	master/http_server.c master/http_server.h \
	master/store.c master/store.h master/store_internal.h \
	master/store_rows.c master/store_read.c \
	master/fsm.c master/fsm.h master/auth.c master/auth_munge.c master/auth.h master/app.c \
	master/ckpt_gc.c master/ckpt_gc.h master/bg_thread.c master/bg_thread.h \
	master/ckpt_path.c master/ckpt_path.h master/ckpt_owner.c master/ckpt_owner.h \
	master/ckpt_tar.c master/ckpt_tar.h \
	master/rm.h master/rm_local.c master/rm_slurm.c master/rm_slurm_util.c \
	master/rm_slurm_util.h master/app.h master/exp.h master/exp_internal.h \
	master/exp_state.c master/exp_control.c master/exp_submit.c master/exp_claim.c \
	master/exp_report.c master/exp_view.c master/exp_tick.c master/exp_load.c \
	master/exp_trial.c master/exp_trial.h \
	master/api.c master/api.h master/api_internal.h master/api_exp.c master/api_trial.c \
	master/api_alloc.c master/api_rm.c master/api_ckpt.c master/api_list.c master/api_list.h master/list_select.c master/list_select.h \
	master/rate_limits.c master/rate_limits.h \
	master/authz.c master/authz.h
# Workspaces and projects (issue 17).
master_libdetmaster_la_SOURCES += master/workspace.c master/workspace.h master/api_workspace.c \
	master/template.c master/template.h master/api_template.c master/api_fork.c \
	master/api_exp_meta.c master/model.c master/model.h master/api_model.c
# The image cache (det image) and its REST calls.
master_libdetmaster_la_SOURCES += master/image_cache.c master/image_cache.h master/api_image.c
# The engine's pure lifecycle rules.
master_libdetmaster_la_SOURCES += master/lifecycle.c master/lifecycle.h
# The fast path for plain JSON request bodies (metric reports).
master_libdetmaster_la_SOURCES += master/json_fast.c master/json_fast.h
# A TensorBoard task's argv (pure).
master_libdetmaster_la_SOURCES += master/tboard_task.c master/tboard_task.h
# Why a trial failed, in one line.
master_libdetmaster_la_SOURCES += master/trial_reason.c master/trial_reason.h
# Tasks as a kind: their store rows and the engine's entry points.
master_libdetmaster_la_SOURCES += master/store_task.c master/exp_task.c
# Commands (issue 14): the task endpoints.
master_libdetmaster_la_SOURCES += master/api_task.c
# Interactive tasks (issue 14): address registration and the /proxy/<id>/ relay.
master_libdetmaster_la_SOURCES += master/task_proxy.c master/task_proxy.h \
	master/store_task_proxy.c master/api_proxy.c
master_libdetmaster_la_SOURCES += master/api_tboard.c
# Notebook tasks (issue 14): their launcher's argv and end reasons; the launcher itself.
master_libdetmaster_la_SOURCES += master/task_notebook.c master/task_notebook.h
dist_pkgdata_SCRIPTS = share/det-notebook-launch
# Shell tasks (issue 14): key pairs, the sshd launcher and GET /tasks/{id}/ssh-key.
master_libdetmaster_la_SOURCES += master/task_shell.c master/task_shell.h master/api_shell.c
# det.conf's parser (job_submit_det's), for the pool names of the slurm resource manager.
master_libdetmaster_la_SOURCES += slurm-plugin/det_policy.c slurm-plugin/det_policy.h \
	slurm-plugin/det_policy_modify.c slurm-plugin/det_policy_internal.h
# Metric series downsampled for charts (pure).
master_libdetmaster_la_SOURCES += master/metrics_ds.c master/metrics_ds.h
# A command's context (det cmd run --context) is unpacked by det-launch's model definition code.
master_libdetmaster_la_SOURCES += launcher/launch_unpack.c launcher/launch_unpack.h
master_libdetmaster_la_SOURCES += launcher/launch_tar.c launcher/launch_tar.h
nodist_master_libdetmaster_la_SOURCES = master/store_schema.h
master_libdetmaster_la_CPPFLAGS = $(AM_CPPFLAGS) -DBINDIR='"$(bindir)"'
master_libdetmaster_la_CPPFLAGS += -I$(top_srcdir)/slurm-plugin -I$(top_srcdir)/launcher \
	-DDET_SLURM_CONF_DEFAULT='"$(detslurmconf)"'
master_libdetmaster_la_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(JANSSON_CFLAGS) \
	$(SQLITE_CFLAGS) $(MHD_CFLAGS) $(CRYPT_CFLAGS) $(MUNGE_CFLAGS) $(ARCHIVE_CFLAGS)
master_libdetmaster_la_LIBADD = common/libdetcommon.la common/libdethttp.la $(ARCHIVE_LIBS) $(YAML_LIBS) $(JANSSON_LIBS) \
	$(SQLITE_LIBS) $(MHD_LIBS) $(CRYPT_LIBS) $(MUNGE_LIBS) $(SLURM_LIBS) $(PTHREAD_LIBS) $(LIBM)
master_libdetmaster_la_LIBADD += $(ZLIB_LIBS)

# Migrations are SQL files, compiled into the binary as C strings.
MASTER_SCHEMA = master/schema/001_init.sql master/schema/002_allocation_events.sql
MASTER_SCHEMA += master/schema/003_token_hashes.sql
MASTER_SCHEMA += master/schema/004_allocation_pid_start.sql
MASTER_SCHEMA += master/schema/005_tasks.sql
MASTER_SCHEMA += master/schema/006_workspaces.sql
MASTER_SCHEMA += master/schema/007_images.sql
MASTER_SCHEMA += master/schema/008_task_description_pid.sql
MASTER_SCHEMA += master/schema/009_task_proxy.sql
MASTER_SCHEMA += master/schema/010_metrics_trial_id.sql
MASTER_SCHEMA += master/schema/011_task_proxy_auth.sql
MASTER_SCHEMA += master/schema/012_metrics_validation_index.sql
EXTRA_DIST += $(MASTER_SCHEMA) master/schema/embed.awk
CLEANFILES += master/store_schema.h
BUILT_SOURCES += master/store_schema.h
master/store_schema.h: $(MASTER_SCHEMA) master/schema/embed.awk
	$(AM_V_GEN)$(MKDIR_P) master && \
	$(AWK) -f $(srcdir)/master/schema/embed.awk \
		$(patsubst %,$(srcdir)/%,$(MASTER_SCHEMA)) > $@.tmp && mv $@.tmp $@

sbin_PROGRAMS += master/det-master
master_det_master_SOURCES = master/main.c
master_det_master_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
master_det_master_LDADD = master/libdetmaster.la

# Unit tests of the parts that stand alone.
MASTER_TEST_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CMOCKA_CFLAGS)
MASTER_TEST_LDADD = master/libdetmaster.la $(CMOCKA_LIBS)
check_PROGRAMS += tests/unit/test_master_store tests/unit/test_master_fsm \
	tests/unit/test_master_auth tests/unit/test_master_http tests/unit/test_master_ckpt_gc \
	tests/unit/test_master_config tests/unit/test_rm_slurm_util
TESTS += tests/unit/test_master_store tests/unit/test_master_fsm \
	tests/unit/test_master_auth tests/unit/test_master_http tests/unit/test_master_ckpt_gc \
	tests/unit/test_master_config tests/unit/test_rm_slurm_util
tests_unit_test_rm_slurm_util_SOURCES = tests/unit/test_rm_slurm_util.c
tests_unit_test_rm_slurm_util_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_rm_slurm_util_LDADD = $(MASTER_TEST_LDADD)
check_PROGRAMS += tests/unit/test_master_limits
TESTS += tests/unit/test_master_limits
tests_unit_test_master_limits_SOURCES = tests/unit/test_master_limits.c
tests_unit_test_master_limits_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_limits_LDADD = $(MASTER_TEST_LDADD)
tests_unit_test_master_config_SOURCES = tests/unit/test_master_config.c
tests_unit_test_master_config_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_config_LDADD = $(MASTER_TEST_LDADD)
tests_unit_test_master_ckpt_gc_SOURCES = tests/unit/test_master_ckpt_gc.c
tests_unit_test_master_ckpt_gc_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_ckpt_gc_LDADD = $(MASTER_TEST_LDADD)
check_PROGRAMS += tests/unit/test_master_metrics_store
TESTS += tests/unit/test_master_metrics_store
tests_unit_test_master_metrics_store_SOURCES = tests/unit/test_master_metrics_store.c
noinst_HEADERS += tests/unit/store_test_util.h
tests_unit_test_master_metrics_store_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_metrics_store_LDADD = $(MASTER_TEST_LDADD)
tests_unit_test_master_store_SOURCES = tests/unit/test_master_store.c
tests_unit_test_master_store_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_store_LDADD = $(MASTER_TEST_LDADD)
tests_unit_test_master_fsm_SOURCES = tests/unit/test_master_fsm.c
tests_unit_test_master_fsm_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_fsm_LDADD = $(MASTER_TEST_LDADD)
tests_unit_test_master_auth_SOURCES = tests/unit/test_master_auth.c
tests_unit_test_master_auth_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_auth_LDADD = $(MASTER_TEST_LDADD)
tests_unit_test_master_http_SOURCES = tests/unit/test_master_http.c
tests_unit_test_master_http_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_http_LDADD = $(MASTER_TEST_LDADD)

# Integration tests against a real det-master and det.
MASTER_ITESTS = tests/integration/test-master-api.sh tests/integration/test-master-crash.sh \
	tests/integration/test-master-munge.sh \
	tests/integration/test-cli.sh tests/integration/test-exp-list-scale.sh
MASTER_ITESTS += tests/integration/test-gc-nonblocking.sh
MASTER_ITESTS += tests/integration/test-cli-401-hint.sh
MASTER_ITESTS += tests/integration/test-cmd.sh
MASTER_ITESTS += tests/integration/test-tensorboard.sh
MASTER_ITESTS += tests/integration/test-task-list.sh
MASTER_ITESTS += tests/integration/test-shell.sh
MASTER_ITESTS += tests/integration/test-shell-tls.sh
MASTER_ITESTS += tests/integration/test-engine-layers.sh
MASTER_ITESTS += tests/integration/test-list-paging.sh
MASTER_ITESTS += tests/integration/test-exp-list-changes.sh
MASTER_ITESTS += tests/integration/test-workspaces.sh tests/integration/test-templates.sh \
	tests/integration/test-exp-meta.sh tests/integration/test-models.sh
MASTER_ITESTS += tests/integration/test-notebook.sh
MASTER_ITESTS += tests/integration/test-trial-ids.sh
EXTRA_DIST += tests/integration/notebook-kernel.py
EXTRA_DIST += $(MASTER_ITESTS) tests/integration/master-lib.sh tests/integration/fake-launch.sh
EXTRA_DIST += tests/integration/trial-api.sh
TESTS += $(MASTER_ITESTS)

# Fuzz target for request bodies; its corpus is replayed by `make check`.
check_PROGRAMS += tests/fuzz/replay_master_api
TESTS += tests/fuzz/replay_master_api
tests_fuzz_replay_master_api_SOURCES = tests/fuzz/fuzz_master_api.c tests/fuzz/replay.c
tests_fuzz_replay_master_api_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	-DREPLAY_CORPUS='"tests/fuzz/corpus/master-api"'
tests_fuzz_replay_master_api_LDADD = master/libdetmaster.la $(JANSSON_LIBS)
EXTRA_DIST += tests/fuzz/corpus/master-api
# `make fuzz-master-api` (CC=clang): the libFuzzer binary, run by hand:
#   tests/fuzz/fuzz_master_api -max_total_time=300 $(srcdir)/tests/fuzz/corpus/master-api
.PHONY: fuzz-master-api
# The library's own source list (its .c files are compiled), so that a new
# master file cannot be left out here.
MASTER_FUZZ_SRCS = $(master_libdetmaster_la_SOURCES) tests/fuzz/fuzz_master_api.c
fuzz-master-api: master/store_schema.h common/libdetcommon.la
	@if ! $(CC) --version | grep -q clang; then \
		echo "make fuzz-master-api needs CC=clang (libFuzzer)"; exit 1; fi
	@mkdir -p tests/fuzz
	$(LIBTOOL) --mode=link $(CC) -g -O1 -fsanitize=fuzzer,address,undefined \
		-I$(srcdir) -I$(srcdir)/master $(master_libdetmaster_la_CPPFLAGS) \
		$(JANSSON_CFLAGS) $(addprefix $(srcdir)/,$(filter %.c,$(MASTER_FUZZ_SRCS))) \
		common/libdetcommon.la $(SQLITE_LIBS) $(MHD_LIBS) $(CRYPT_LIBS) $(MUNGE_LIBS) $(SLURM_LIBS) $(YAML_LIBS) \
		$(ARCHIVE_LIBS) $(ZLIB_LIBS) $(JANSSON_LIBS) $(LIBM) -pthread -o tests/fuzz/fuzz_master_api
CLEANFILES += tests/fuzz/fuzz_master_api

# The checkpoint directory rule and the storage roots.
check_PROGRAMS += tests/unit/test_master_ckpt_path
TESTS += tests/unit/test_master_ckpt_path
tests_unit_test_master_ckpt_path_SOURCES = tests/unit/test_master_ckpt_path.c
tests_unit_test_master_ckpt_path_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_ckpt_path_LDADD = $(MASTER_TEST_LDADD)

# File work in checkpoint storage as the owner (forks; no symlink followed).
check_PROGRAMS += tests/unit/test_master_ckpt_owner
TESTS += tests/unit/test_master_ckpt_owner
tests_unit_test_master_ckpt_owner_SOURCES = tests/unit/test_master_ckpt_owner.c
tests_unit_test_master_ckpt_owner_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_ckpt_owner_LDADD = $(MASTER_TEST_LDADD)

# The in-memory trial records and their index.
check_PROGRAMS += tests/unit/test_master_exp_trial
TESTS += tests/unit/test_master_exp_trial
tests_unit_test_master_exp_trial_SOURCES = tests/unit/test_master_exp_trial.c
tests_unit_test_master_exp_trial_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_exp_trial_LDADD = $(MASTER_TEST_LDADD)

# The JSON fast path against json_loadb on a table of inputs.
check_PROGRAMS += tests/unit/test_master_json_fast
TESTS += tests/unit/test_master_json_fast
tests_unit_test_master_json_fast_SOURCES = tests/unit/test_master_json_fast.c \
	master/json_fast.c master/json_fast.h
tests_unit_test_master_json_fast_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_master_json_fast_LDADD = $(JANSSON_LIBS) $(CMOCKA_LIBS)

# The pure lifecycle rules, built with nothing but the state tables.
check_PROGRAMS += tests/unit/test_master_lifecycle
TESTS += tests/unit/test_master_lifecycle
tests_unit_test_master_lifecycle_SOURCES = tests/unit/test_master_lifecycle.c \
	master/lifecycle.c master/lifecycle.h master/fsm.c master/fsm.h
tests_unit_test_master_lifecycle_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_master_lifecycle_LDADD = $(CMOCKA_LIBS)

# Notebook tasks' pure rules: idle timeouts, the launcher's argv, end reasons.
check_PROGRAMS += tests/unit/test_master_task_notebook
TESTS += tests/unit/test_master_task_notebook
tests_unit_test_master_task_notebook_SOURCES = tests/unit/test_master_task_notebook.c \
	master/task_notebook.c master/task_notebook.h
tests_unit_test_master_task_notebook_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_master_task_notebook_LDADD = $(JANSSON_LIBS) $(CMOCKA_LIBS)

# Master-restart recovery: replaying stored events through the lifecycle rules.
check_PROGRAMS += tests/unit/test_master_lifecycle_replay
TESTS += tests/unit/test_master_lifecycle_replay
tests_unit_test_master_lifecycle_replay_SOURCES = tests/unit/test_master_lifecycle_replay.c \
	master/lifecycle.c master/lifecycle.h master/fsm.c master/fsm.h
tests_unit_test_master_lifecycle_replay_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_master_lifecycle_replay_LDADD = $(CMOCKA_LIBS)

# The one-line reason of a failed trial.
check_PROGRAMS += tests/unit/test_master_trial_reason
TESTS += tests/unit/test_master_trial_reason
tests_unit_test_master_trial_reason_SOURCES = tests/unit/test_master_trial_reason.c \
	master/trial_reason.c master/trial_reason.h
tests_unit_test_master_trial_reason_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_master_trial_reason_LDADD = $(CMOCKA_LIBS)
# Tasks as a kind: migration 5, store_task_* and exp_task_* on a real SQLite file.
check_PROGRAMS += tests/unit/test_master_task
TESTS += tests/unit/test_master_task
tests_unit_test_master_task_SOURCES = tests/unit/test_master_task.c
tests_unit_test_master_task_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_task_LDADD = $(MASTER_TEST_LDADD)

# A TensorBoard task's argv and logdir spec.
check_PROGRAMS += tests/unit/test_master_tboard_task
TESTS += tests/unit/test_master_tboard_task
tests_unit_test_master_tboard_task_SOURCES = tests/unit/test_master_tboard_task.c
tests_unit_test_master_tboard_task_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_tboard_task_LDADD = $(MASTER_TEST_LDADD)

# Who may do what to which object.
check_PROGRAMS += tests/unit/test_master_authz
TESTS += tests/unit/test_master_authz
tests_unit_test_master_authz_SOURCES = tests/unit/test_master_authz.c
tests_unit_test_master_authz_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_authz_LDADD = $(MASTER_TEST_LDADD)

# Paging and sorting of list answers (trials, checkpoints).
check_PROGRAMS += tests/unit/test_master_api_list
TESTS += tests/unit/test_master_api_list
tests_unit_test_master_api_list_SOURCES = tests/unit/test_master_api_list.c
tests_unit_test_master_api_list_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_api_list_LDADD = $(MASTER_TEST_LDADD)

# Page selection of in-memory lists (the experiment list at 100,000).
check_PROGRAMS += tests/unit/test_master_list_select
TESTS += tests/unit/test_master_list_select
tests_unit_test_master_list_select_SOURCES = tests/unit/test_master_list_select.c
tests_unit_test_master_list_select_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_list_select_LDADD = $(MASTER_TEST_LDADD)

# The checkpoint tarball of GET /checkpoints/UUID/download (no symlink followed, limits).
check_PROGRAMS += tests/unit/test_master_ckpt_tar
TESTS += tests/unit/test_master_ckpt_tar
tests_unit_test_master_ckpt_tar_SOURCES = tests/unit/test_master_ckpt_tar.c
tests_unit_test_master_ckpt_tar_CFLAGS = $(MASTER_TEST_CFLAGS)
tests_unit_test_master_ckpt_tar_LDADD = $(MASTER_TEST_LDADD)
