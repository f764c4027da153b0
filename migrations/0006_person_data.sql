-- Facts the feeds carry beyond names, kept as data for the console and exports.
--  ine:       the pupil's national identifier (AAF ENTEleveINE, SIECLE ID_NATIONAL / INE).
--  functions: the person's functions in their structures, as the feed gives them
--             (AAF ENTPersonFonctions "UAI$code$label$…", STS-web FONCTION), e.g. {'0750001A$ENS$ENSEIGNEMENT'}.
--  mobile:    a mobile number for SMS (AAF ENTPersonMobileSMS, SIECLE TEL_PORTABLE), kept apart from phone.
ALTER TABLE users ADD COLUMN ine text;
ALTER TABLE users ADD COLUMN functions text[] NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN mobile text;
CREATE INDEX users_ine_idx ON users (ine) WHERE ine IS NOT NULL;
