"""Comments: members' threaded comments on topic pages and news updates."""
