// What a zod schema refused, in French and English (src/lib/zod-text.ts): real zod issues, not hand-made ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { zodIssueText } from '../src/lib/zod-text.js';

const said = (schema: z.ZodTypeAny, value: unknown): [string, string] => {
  const r = schema.safeParse(value);
  assert.ok(!r.success, `${JSON.stringify(value)} should be refused`);
  return [zodIssueText('fr', r.error.issues[0]), zodIssueText('en', r.error.issues[0])];
};

test('bounds, types, formats and choices are said in the language, exclusive bounds as such', () => {
  const cases: Array<[z.ZodTypeAny, unknown, string, string]> = [
    [z.number().int(), 2.5, 'nombre entier attendu.', 'a whole number expected.'],
    [z.number(), 'x', 'nombre attendu.', 'a number expected.'],
    [z.number().max(5), 6, '5 au plus.', 'at most 5.'],
    [z.number().lt(5), 5, 'moins de 5.', 'less than 5.'],
    [z.number().positive(), 0, 'plus de 0.', 'more than 0.'],
    [z.number().min(1), 0, '1 au moins.', 'at least 1.'],
    [z.string().max(3), 'abcd', '3 caractères au plus.', 'at most 3 characters.'],
    [z.array(z.string()).min(1), [], '1 élément au moins.', 'at least 1 item.'],
    [z.string().uuid(), 'zz', 'identifiant attendu (UUID, par exemple 0b6c5c1e-1f2a-4c3d-9e8f-123456789abc).', 'an identifier expected (UUID, e.g. 0b6c5c1e-1f2a-4c3d-9e8f-123456789abc).'],
    [z.enum(['a', 'b']), 'c', 'valeurs possibles : a, b.', 'possible values: a, b.'],
  ];
  for (const [schema, value, fr, en] of cases) assert.deepEqual(said(schema, value), [fr, en], JSON.stringify(value));
});
