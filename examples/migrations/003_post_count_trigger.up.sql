-- The function body is one statement for the splitter, semicolons and all.
CREATE FUNCTION users_post_count_trg() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE users SET post_count = post_count + 1 WHERE id = NEW.user_id;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE users SET post_count = post_count - 1 WHERE id = OLD.user_id;
    END IF;
    RETURN NULL;  -- AFTER trigger: the result is ignored
END;
$$;

CREATE TRIGGER posts_post_count
AFTER INSERT OR DELETE OR UPDATE OF user_id ON posts
FOR EACH ROW EXECUTE FUNCTION users_post_count_trg();
