"""Canned replies: texts a technician inserts into a reply, personal or shared by the admins."""
