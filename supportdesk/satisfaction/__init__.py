"""Satisfaction (CSAT): requesters rate the answer to a resolved ticket, good or bad (issue 21)."""
