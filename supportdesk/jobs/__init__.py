"""Background jobs: the engine (Huey), the desk's jobs and schedule, and the failed jobs admins retry."""
