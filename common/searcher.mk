# SPDX-License-Identifier: GPL-2.0-or-later
# Hyperparameter searchers.
noinst_HEADERS += common/searcher.h
