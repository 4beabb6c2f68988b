"""Service levels: business calendars, targets per priority, due times and breaches."""
