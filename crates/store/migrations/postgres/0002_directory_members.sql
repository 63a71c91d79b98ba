-- Which people each directory import has seen, so a re-sync can tell who
-- left the directory (and disable them) from who was never in it.
-- Kept in step between sqlite/ and postgres/.
CREATE TABLE directory_members (
    source TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    present BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (source, person_id)
);
CREATE INDEX directory_members_by_person ON directory_members (person_id);
