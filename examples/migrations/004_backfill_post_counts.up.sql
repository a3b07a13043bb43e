-- A data migration with no .down.sql: it cannot be rolled back, and the extension refuses to try.
DO $do$
DECLARE
    fixed integer;
BEGIN
    UPDATE users u
       SET post_count = c.n
      FROM (SELECT u2.id, count(p.id)::integer AS n
              FROM users u2 LEFT JOIN posts p ON p.user_id = u2.id
             GROUP BY u2.id) AS c
     WHERE c.id = u.id AND u.post_count <> c.n;
    GET DIAGNOSTICS fixed = ROW_COUNT;
    RAISE NOTICE 'post counts corrected for % user(s)', fixed;
END
$do$;
