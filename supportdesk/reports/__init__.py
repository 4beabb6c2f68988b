"""Reports: the desk's figures over a date range, read from the tickets and their history."""
