-- The door an operation came through, so that a notice sent after a crash
-- can say how the change was asked for.
ALTER TABLE operations ADD COLUMN door TEXT NOT NULL DEFAULT 'api';
