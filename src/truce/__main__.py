"""`python -m truce` is the `truce` command."""

from truce.cli import main

main()
