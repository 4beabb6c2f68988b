"""Tickets, their conversation and their audit trail."""
