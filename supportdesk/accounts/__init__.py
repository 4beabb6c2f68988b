"""Users, roles, teams and signing in."""
