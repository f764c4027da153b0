-- The AAF attributes that gave a member of staff each class and group (ENTAuxEnsClasses, ENTAuxEnsClassesMatieres,
-- ENTAuxEnsClassesPrincipal…; ENTAuxEnsGroupes, ENTAuxEnsGroupesMatieres…): her classes are their union, and a delta's
-- modifyRequest replaces only the attributes it lists. Without it, a delta replacing ENTAuxEnsClassesPrincipal alone
-- could not tell a former head-teacher class from a class she teaches (it kept both until the next complete feed: her
-- class view kept reaching pupils who were no longer hers), and one replacing ENTAuxEnsClassesMatieres alone dropped
-- her head-teacher class. Written by the import only (src/import/apply.ts, read back by aaf-settle.ts storedPeople);
-- NULL where no AAF staff record gave the membership (pupils, STS-web, CSV, made by hand) or before this migration
-- (set by the next complete feed, whose records' digests differ from the stored ones).
ALTER TABLE user_classes ADD COLUMN aaf_attributes text[];
ALTER TABLE user_groups ADD COLUMN aaf_attributes text[];
