"""`python -m pipelines`: the `incidents` command."""

from pipelines.launch import main

main()
