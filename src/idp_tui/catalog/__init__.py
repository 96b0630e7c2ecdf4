"""The software catalog: Backstage's entity model, relations, validation, search and local sources."""
