"""Secrets: Vault through hvac (imported only when first needed), and the demo Vault that speaks the same API."""
