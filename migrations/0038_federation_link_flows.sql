-- A provider's answer that matched no account (FranceConnect: parents have no birth date in the académie's feeds)
-- is kept as a flow step of its own for FLOW_MINUTES, bound to the browser like the others: the person may prove
-- they own an ENT account (its login and password, or its activation) and have it linked to that identity. Its token
-- must never continue a sign-in (…/suite, …/choix), nor a sign-in's token open the linking form.
ALTER TABLE federation_flows ADD COLUMN IF NOT EXISTS purpose text NOT NULL DEFAULT 'signin';
ALTER TABLE federation_flows DROP CONSTRAINT IF EXISTS federation_flows_purpose_check;
ALTER TABLE federation_flows ADD CONSTRAINT federation_flows_purpose_check CHECK (purpose IN ('signin', 'link'));
