"""Files attached to tickets and replies: stored under generated names, served through the policy."""
