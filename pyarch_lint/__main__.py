from pyarch_lint.cli import main

main()
