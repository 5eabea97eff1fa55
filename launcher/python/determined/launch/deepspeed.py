# SPDX-License-Identifier: GPL-2.0-or-later
"""`python3 -m determined.launch.deepspeed`: refused, DeepSpeed is not supported here."""

from determined.launch._missing import refuse

if __name__ == "__main__":
    refuse("deepspeed", "DeepSpeed")
