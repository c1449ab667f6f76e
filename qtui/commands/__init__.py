"""CLI command implementations: thin glue between the CLI and the packages that do the work."""
