-- 0030 marked as issued by a person only the tokens whose created_by was still set. A super admin demoted and erased
-- before it left created_by NULL (ON DELETE SET NULL), the value of a command-line token: their console token stayed
-- valid for good. The audit trail still tells them apart: api_token.create names the token and says `via` (console or
-- cli, since 0012) and its actor (actor_id, or actor_pseudonym once erased; a command-line token has neither).
UPDATE api_tokens t SET issued_by_person = true
WHERE NOT t.issued_by_person AND EXISTS (
  SELECT 1 FROM audit a
  WHERE a.action = 'api_token.create' AND a.details->>'tokenId' = t.id::text
    AND (a.details->>'via' = 'console' OR a.actor_id IS NOT NULL OR a.actor_pseudonym IS NOT NULL));
