-- Postal address of a person as the feed gives it (SIECLE ADRESSES: LIGNE1..4_ADRESSE, CODE_POSTAL,
-- LIBELLE_POSTAL, LL_PAYS), one line per row of the address, kept as data for letters and exports.
ALTER TABLE users ADD COLUMN address text;
