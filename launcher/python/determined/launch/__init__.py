# SPDX-License-Identifier: GPL-2.0-or-later
"""``determined.launch``: launch layers for an entrypoint (``python3 -m determined.launch.X``).

det-launch already starts one process per slot with the rank environment, so
torch_distributed only checks and completes that environment; wrap_rank
prefixes a rank's output. deepspeed, horovod and tensorflow are not installed
here: their modules exit with an error that says so."""
