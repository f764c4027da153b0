-- The keyed hash (HMAC, as activation_code_mac) of the activation code an account was activated with. The sheet's
-- QR code opened after the activation says « compte déjà activé » only to whoever holds that very code; any other
-- code gets the page of an unknown login, so /activation tells nobody which logins exist and are activated.
-- Accounts activated before this migration have none: their QR code opens the activation page like any other.
ALTER TABLE users ADD COLUMN activation_code_used_mac text;
