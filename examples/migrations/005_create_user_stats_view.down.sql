DROP VIEW user_stats;
