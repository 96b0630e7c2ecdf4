"""Headless subcommands. None of them imports textual, kubernetes or hvac."""
