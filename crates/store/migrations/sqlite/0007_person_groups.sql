-- What verification policies match on beside the department: the
-- directory groups a person is in (as the directory names them, e.g. the
-- DNs of memberOf) and whether they are privileged (an administrator, AD's
-- adminCount, or so marked in the import). Kept in step between sqlite/
-- and postgres/.
ALTER TABLE people ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';
ALTER TABLE people ADD COLUMN privileged BIGINT NOT NULL DEFAULT 0;
