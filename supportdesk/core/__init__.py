"""Plumbing every domain stands on: the database, settings, errors, web and API helpers, caching,
the clock, rate limits, rich text, probes, logs and metrics. Nothing here knows a ticket."""
