"""Golden paths: Backstage scaffolder templates as forms, rendered and run locally or by a Backstage backend."""
