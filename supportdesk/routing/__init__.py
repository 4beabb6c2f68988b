"""Which team a new ticket goes to, and which of its technicians gets it."""
