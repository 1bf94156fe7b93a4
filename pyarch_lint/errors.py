"""The base of every error a user can fix: a bad config, a missing path, a git revision that does
not exist, an unreadable baseline, options that contradict each other. The command line prints
its message on one line and exits 2; a library caller catches `LintError`. Anything else raised
is a bug."""

from __future__ import annotations


class LintError(Exception):
    """A problem with the input of a run, never with pyarch-lint itself."""
