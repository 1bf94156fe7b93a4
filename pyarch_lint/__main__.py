"""`python -m pyarch_lint`: the console script's twin."""

import os
import sys

# `python -m` puts the working directory first on sys.path, so inside a linted repository its
# `click.py` or `json.py` would be imported instead of ours: code from the repository would run.
# It goes before anything else is imported (this package is already loaded; its own modules are
# found through the package, not through sys.path).
if (
    not getattr(sys.flags, "safe_path", False)
    and sys.path
    and os.path.realpath(sys.path[0] or os.curdir) == os.path.realpath(os.getcwd())
):
    del sys.path[0]

from pyarch_lint.cli import main  # only once sys.path is safe

if __name__ == "__main__":  # not when a spawned worker process imports this module
    main()
