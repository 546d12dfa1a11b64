"""An example bioplast plugin package: one rule and one task, found by bioplast through entry points."""
