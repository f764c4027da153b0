-- How a link was made when the person proved an account theirs from the « aucun compte » page (its password, or its
-- activation: src/federation/accounts.ts linkProvenAccount); NULL for a link the provider's answer matched itself (a
-- directory key, a first sign-in). Such a link rests on that secret: when the account's password is replaced (changed,
-- reset, renewal code, the CLI), it goes with the old password (src/accounts/signins.ts passwordReplaced), or whoever
-- else knew the password kept, through their own provider identity, a way in that survived the change.
ALTER TABLE federation_links ADD COLUMN IF NOT EXISTS proven_by text CHECK (proven_by IN ('password', 'activation'));
