// Hashes used across the app (session ids, static file etags).
import { createHash } from 'node:crypto';

/** Hex SHA-256 of a string or bytes. */
export const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
