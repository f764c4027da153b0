-- trousseau_fold, the SQL twin of foldKey (src/directory/fold.ts) used by search and duplicate detection, made to
-- agree with it on Latin-script names: compatibility forms (NFKD: ﬁ → fi, Ĳ → ij, full-width letters), the letters
-- any-ascii spells otherwise (ŋ → ng, ĸ → q), both cases spelled out so that the result does not depend on the
-- database's locale. Other scripts are not transliterated here (PostgreSQL has no table for them): they fold to ''.
CREATE OR REPLACE FUNCTION trousseau_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT regexp_replace(lower(
    replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
      translate(regexp_replace(normalize(t, NFKD), '[\u0300-\u036f]', '', 'g'), 'øØđĐðÐłŁıħĦŧŦ', 'ooddddllihhtt'),
      'æ', 'ae'), 'Æ', 'AE'), 'œ', 'oe'), 'Œ', 'OE'), 'ß', 'ss'), 'ẞ', 'SS'), 'þ', 'th'), 'Þ', 'TH'),
      'ŋ', 'ng'), 'Ŋ', 'NG'), 'ĸ', 'q')),
    '[^a-z0-9]', '', 'g')
$$;
