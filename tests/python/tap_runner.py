# SPDX-License-Identifier: GPL-2.0-or-later
"""Run unittest modules and print TAP, one line per test case."""

import sys
import unittest


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0
        self.lines = []

    def _line(self, ok, test, note=""):
        self.n += 1
        name = f"{test.__class__.__name__}.{test._testMethodName}"
        print(f"{'ok' if ok else 'not ok'} {self.n} - {name}{note}", flush=True)

    def addSuccess(self, test):
        self._line(True, test)

    def addFailure(self, test, err):
        self._line(False, test)
        print("# " + self._exc_info_to_string(err, test).replace("\n", "\n# "), flush=True)

    def addError(self, test, err):
        self.addFailure(test, err)

    def addSkip(self, test, reason):
        self._line(True, test, f" # SKIP {reason}")


def main():
    sys.path.insert(0, sys.argv[1])  # the package directory
    sys.path.insert(0, sys.argv[2])  # the tests directory
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for mod in sys.argv[3:]:
        suite.addTests(loader.loadTestsFromName(mod))
    print(f"1..{suite.countTestCases()}", flush=True)
    result = TapResult()
    suite.run(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
