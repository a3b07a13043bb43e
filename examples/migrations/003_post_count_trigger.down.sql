DROP TRIGGER posts_post_count ON posts;
DROP FUNCTION users_post_count_trg();
