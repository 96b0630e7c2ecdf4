"""A real Backstage as idp-tui's backend: its catalog and scaffolder REST APIs over httpx."""
