"""Full-text search over tickets: PostgreSQL tsvector with GIN indexes, SQLite FTS5, one service."""
