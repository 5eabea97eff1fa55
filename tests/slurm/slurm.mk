# SPDX-License-Identifier: GPL-2.0-or-later
# Integration tests on a real Slurm cluster started on this machine by
# tests/slurm/cluster.sh (root needed; they skip themselves otherwise, and in
# sanitizer builds, whose plugins cannot load into Slurm's daemons; plugins.sh
# only inspects the built .so files and runs everywhere). They run
# in `make check` (about 100 s in all); `make check-slurm` runs only them.
SLURM_TESTS = tests/slurm/plugins.sh tests/slurm/harness.sh tests/slurm/job_submit.sh tests/slurm/spank.sh \
	tests/slurm/job_modify.sh tests/slurm/requeue.sh tests/slurm/faults.sh \
	tests/slurm/mpi.sh tests/slurm/array_throttle.sh \
	tests/slurm/master_rm.sh tests/slurm/det_submit.sh tests/slurm/det_control.sh \
	tests/slurm/det_distributed.sh tests/slurm/multi_array.sh tests/slurm/same_hparams.sh \
	tests/slurm/munge_identity.sh tests/slurm/fm_asha.sh tests/slurm/pause_kill.sh tests/slurm/ctld_down.sh \
	tests/slurm/no_det_conf.sh tests/slurm/requeue_refused.sh \
	tests/slurm/ctld_slow.sh tests/slurm/pytorch.sh tests/slurm/no_side_effects.sh \
	tests/slurm/scancel_reasons.sh tests/slurm/container.sh tests/slurm/collaboration.sh
SLURM_TESTS += tests/slurm/walltime.sh
SLURM_TESTS += tests/slurm/asha_2node.sh
SLURM_TESTS += tests/slurm/container_user.sh
SLURM_TESTS += tests/slurm/container_oci.sh
SLURM_TESTS += tests/slurm/webui_queue.sh
SLURM_TESTS += tests/slurm/cmd.sh
SLURM_TESTS += tests/slurm/shell.sh
SLURM_TESTS += tests/slurm/events.sh
SLURM_TESTS += tests/slurm/step_resources.sh
SLURM_TESTS += tests/slurm/cpu_pinning.sh
SLURM_TESTS += tests/slurm/partition_time.sh
SLURM_TESTS += tests/slurm/notebook.sh
SLURM_TESTS += tests/slurm/cmd_context.sh
SLURM_TESTS += tests/slurm/safety_net.sh
TESTS += $(SLURM_TESTS)
EXTRA_DIST += tests/slurm/webui_queue.mjs
EXTRA_DIST += tests/slurm/notebook.mjs
EXTRA_DIST += $(SLURM_TESTS) tests/slurm/lib.sh tests/slurm/cluster.sh tests/slurm/listener.py \
	tests/slurm/tiny/train.py tests/slurm/tiny/grid.yaml tests/slurm/tiny/random.yaml \
	tests/slurm/master-lib.sh tests/slurm/trial.py \
	tests/slurm/torch/sitecustomize.py

# A tree configured --with-slurm=PREFIX runs them against that Slurm
# (tests/slurm/cluster.sh and lib.sh read DET_SLURM_PREFIX).
AM_TESTS_ENVIRONMENT += DET_SLURM_PREFIX='$(SLURM_PREFIX)'; export DET_SLURM_PREFIX;

# make check-slurm: the Slurm tests against the Slurm this tree was built for.
# make check-slurm SLURM=PREFIX: against the Slurm installed in PREFIX
# (scripts/slurm-build), in a build tree of its own, build-slurm-<VERSION>/
# here, configured --with-slurm=PREFIX with the same compiler (its source
# tree for job_submit_det: PREFIX/src). One test there:
# make -C build-slurm-<VERSION> check TESTS=tests/slurm/NAME.sh
check-slurm:
	@if test -n '$(SLURM)' && test '$(SLURM)' != '$(SLURM_PREFIX)'; then \
	  sub=build-`basename '$(SLURM)'`; \
	  if test ! -f "$$sub/Makefile" || ! grep -qx 'SLURM_PREFIX = $(SLURM)' "$$sub/Makefile"; then \
	    echo "check-slurm: configuring $$sub --with-slurm=$(SLURM)"; \
	    rm -rf "$$sub" && mkdir "$$sub" && \
	    (cd "$$sub" && '$(abs_top_srcdir)/configure' CC='$(CC)' --with-slurm='$(SLURM)') >"$$sub.configure.log" 2>&1 || \
	      { tail -n 20 "$$sub.configure.log"; exit 1; }; \
	  fi; \
	  $(MAKE) -C "$$sub" check-slurm; \
	else \
	  $(MAKE) $(AM_MAKEFLAGS) check TESTS='$(SLURM_TESTS)'; \
	fi
.PHONY: check-slurm
