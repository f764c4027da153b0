-- How the sign-in behind each row of Trousseau's OpenID provider was made: 'password' (a Trousseau session opened with
-- the password, or with a code that set it) or 'provider' (opened through an identity provider: a federation_sessions
-- row). oidc-provider carries it as `amr` in its sessions, authorization codes and refresh tokens (['pwd'] or ['fed'],
-- given at the login interaction, src/oidc/routes.ts); an access token has none and takes it from the code or refresh
-- token it is issued for (src/oidc/adapter.ts). When an account's password is refused (« fournisseur externe
-- seulement », by a « Paramètres » save or an import), what was obtained with the password ends and what was obtained
-- through the identity provider stays (src/accounts/signins.ts endSignInsOf); every use checks it again
-- (src/oidc/provider.ts findAccount). NULL: not known — grants and interactions, and every row written before this
-- migration, which nothing tells apart: treated as obtained with the password (revoked with those, refused at use).
ALTER TABLE oidc_payloads ADD COLUMN signed_in_with text CHECK (signed_in_with IN ('password', 'provider'));
