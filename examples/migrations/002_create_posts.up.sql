CREATE TABLE posts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       text NOT NULL CHECK (title <> ''),
    body        text NOT NULL DEFAULT '',
    published   boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Foreign keys are not indexed automatically.
CREATE INDEX posts_user_id_idx ON posts (user_id);
