-- Seed data as a repeatable migration: the staff accounts every environment needs.
--
--   psql -v script="$(cat examples/seeds/seed_staff_users.sql)" \
--        -c "SELECT migrate.apply_repeatable('seed_staff_users', :'script')"
--
-- (or register_repeatable() it next to the versioned migrations: apply() runs it after them).
-- It runs again whenever its tokens change, on a fresh development database and on production
-- alike, so each statement must leave the same rows whatever the previous run left:
--   * upsert by a natural key (here the unique index on lower(email), from 002a), never a bare
--     INSERT;
--   * remove by key what is no longer seeded, never "DELETE everything and insert again"
--     (rows that reference it would go, or block);
--   * no generated ids in the script: look rows up by their key.
INSERT INTO users (email, name)
VALUES ('admin@example.com', 'Site admin'),
       ('support@example.com', 'Support desk')
ON CONFLICT ((lower(email))) DO UPDATE SET name = EXCLUDED.name
    WHERE users.name IS DISTINCT FROM EXCLUDED.name;

-- Accounts seeded by earlier versions of this file and retired since.
DELETE FROM users
 WHERE lower(email) IN ('ops@example.com')
   AND post_count = 0;
