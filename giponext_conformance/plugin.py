"""pytest plugin of the harness: command-line options and the conformance target."""
