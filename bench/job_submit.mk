# SPDX-License-Identifier: GPL-2.0-or-later
# The policy decision's cost per submission (target < 50 us), as a TAP test.
if HAVE_SLURM_SRC
check_PROGRAMS += bench/job_submit_bench
TESTS += bench/job_submit_bench
endif
bench_job_submit_bench_SOURCES = bench/job_submit_bench.c slurm-plugin/job_submit_det.c slurm-plugin/det_slurmctld.h \
	$(DET_POLICY_SOURCES) tests/unit/slurmctld_host.c tests/unit/slurmctld_host.h
bench_job_submit_bench_CPPFLAGS = $(AM_CPPFLAGS) $(SLURM_SRC_CPPFLAGS) -I$(top_srcdir)/slurm-plugin \
	-I$(top_srcdir)/tests/unit
