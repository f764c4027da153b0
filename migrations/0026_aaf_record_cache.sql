-- The AAF records imports have read before, as they staged them (src/import/aaf-cache.ts): a feed imported again
-- reads only the records that changed. Only a cache: UNLOGGED (not in the WAL, emptied after a crash) and safe to
-- empty at any time (TRUNCATE aaf_record_cache): the next import reads every record again.
CREATE UNLOGGED TABLE aaf_record_cache (
  -- SHA-256 (first 16 bytes) of the record's text, the code that reads it and its file's 1D state.
  digest bytea PRIMARY KEY,
  ext text NOT NULL,
  source text NOT NULL,
  profile text NOT NULL,
  structures text[] NOT NULL,
  legal text[],
  refs text[] NOT NULL,
  rec text NOT NULL,
  named text
);
-- No index on ext: a run drops its people's older entries, erasures theirs, with one hash join each (an index
-- would cost more to keep up on a région's first import than those joins cost).
