"""Telling people: the outbox of mail written with the change that causes it, and its delivery."""
