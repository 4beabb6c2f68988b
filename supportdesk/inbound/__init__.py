"""Email to ticket: the mailboxes admins configure, the fetcher that reads them over IMAP, and what
became of every message it read (a ticket, a comment, recorded only, or kept for an admin)."""
