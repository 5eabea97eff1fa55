# SPDX-License-Identifier: GPL-2.0-or-later
# bench: build fragment included by the top-level Makefile.am.
include bench/master.mk
include bench/job_submit.mk
include bench/dispatch.mk
include bench/slurm_rpc.mk
include bench/longpoll.mk
include bench/exp_list.mk
EXTRA_DIST += bench/fm_distributed.sh
include bench/webui.mk
