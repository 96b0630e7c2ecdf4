"""The bundled demo organisation (data only)."""
