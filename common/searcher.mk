# SPDX-License-Identifier: GPL-2.0-or-later
# Hyperparameter searchers.
noinst_HEADERS += common/searcher.h common/searcher_internal.h common/hparams.h common/prng.h
common_libdetcommon_la_SOURCES += common/prng.c common/hparams.c common/searcher.c \
	common/searcher_asha.c common/searcher_state.c
