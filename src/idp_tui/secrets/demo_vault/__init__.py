"""A demo Vault: the Vault HTTP API on 127.0.0.1, for the demo profile and for tests."""
