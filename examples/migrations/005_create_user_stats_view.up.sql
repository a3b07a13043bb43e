CREATE VIEW user_stats AS
SELECT u.id, u.name, u.post_count,
       count(p.id) FILTER (WHERE p.published) AS published_posts,
       max(p.created_at) AS last_post_at
  FROM users u
  LEFT JOIN posts p ON p.user_id = u.id
 GROUP BY u.id;
