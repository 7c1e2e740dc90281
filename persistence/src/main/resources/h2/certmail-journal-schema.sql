-- The embedded journal's tables (pekko-persistence-jdbc 1.1.1 on H2), run by
-- EmbeddedJournalSchema.ensureCreated at every start. Same tables as the plugin's
-- schema/h2/h2-create-schema.sql, but every statement is idempotent (IF NOT EXISTS: the
-- plugin's unique index has none, so each later start failed on it), and without the
-- durable_state table (certmail does not configure durable state).
-- Statements are separated by ";" at the end of a line; lines starting with "--" are comments.

CREATE TABLE IF NOT EXISTS PUBLIC."event_journal" (
    "ordering" BIGINT UNIQUE NOT NULL AUTO_INCREMENT,
    "deleted" BOOLEAN DEFAULT false NOT NULL,
    "persistence_id" VARCHAR(255) NOT NULL,
    "sequence_number" BIGINT NOT NULL,
    "writer" VARCHAR NOT NULL,
    "write_timestamp" BIGINT NOT NULL,
    "adapter_manifest" VARCHAR NOT NULL,
    "event_payload" BLOB NOT NULL,
    "event_ser_id" INTEGER NOT NULL,
    "event_ser_manifest" VARCHAR NOT NULL,
    "meta_payload" BLOB,
    "meta_ser_id" INTEGER,
    "meta_ser_manifest" VARCHAR,
    PRIMARY KEY("persistence_id", "sequence_number")
);

-- The plugin's schema also creates a unique index "event_journal_ordering_idx" on "ordering",
-- which the UNIQUE constraint above already indexes: a second B-tree written by every insert for
-- nothing. Journals made before 2026-11-30 keep theirs (harmless).

-- Tags (unused by certmail, but the journal writes here when an event has tags).
CREATE TABLE IF NOT EXISTS PUBLIC."event_tag" (
    "event_id" BIGINT NOT NULL,
    "tag" VARCHAR NOT NULL,
    PRIMARY KEY("event_id", "tag"),
    CONSTRAINT fk_event_journal
      FOREIGN KEY("event_id")
      REFERENCES "event_journal"("ordering")
      ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS PUBLIC."snapshot" (
    "persistence_id" VARCHAR(255) NOT NULL,
    "sequence_number" BIGINT NOT NULL,
    "created" BIGINT NOT NULL,
    "snapshot_ser_id" INTEGER NOT NULL,
    "snapshot_ser_manifest" VARCHAR NOT NULL,
    "snapshot_payload" BLOB NOT NULL,
    "meta_ser_id" INTEGER,
    "meta_ser_manifest" VARCHAR,
    "meta_payload" BLOB,
    PRIMARY KEY("persistence_id", "sequence_number")
);

-- Events up to 4 KiB (every protocol event but a submission with large content) are stored in
-- the row rather than in H2's separate LOB storage (the default limit is 256 bytes, below almost
-- every event: 584 bytes on average in bench load). A LOB write touches three more B-trees per
-- event, and a LOB read is a lookup per event when an entity recovers or the audit reads. The
-- setting is kept in the database and applies to rows written from now on; older rows stay as
-- they are and read the same.
SET MAX_LENGTH_INPLACE_LOB 4096;
