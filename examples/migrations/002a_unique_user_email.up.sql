-- A fix added after 002 was released: version 002a sorts between 002 and 003.
-- This file carries its own transaction control, as many hand-written migrations do; the
-- extension accepts a leading BEGIN; and a trailing COMMIT; and runs the script in the caller's
-- transaction anyway.
BEGIN;

UPDATE users SET email = lower(email) WHERE email <> lower(email);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

COMMIT;
