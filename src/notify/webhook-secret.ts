import type { SecretBox } from '../secret-box.js';

/** What SecretBox.seal() writes: `v1.<12-byte nonce>.<16-byte tag>.<ciphertext>`, base64url. */
const SEALED = /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/;

export const isSealedSecret = (stored: string): boolean => SEALED.test(stored);

/**
 * The webhook secret as stored in the tenant parameters: encrypted with the node's SecretBox (like
 * the file-server and export passwords) since issue 26; a plain value written by an earlier version
 * is read as it is, so upgrading does not stop delivery. `error`: stored encrypted, but this node's
 * key cannot open it (CALLGUARD_SECRET_KEY differs between nodes).
 */
export function readWebhookSecret(
  box: SecretBox | undefined,
  stored: string | undefined,
): { secret?: string; error?: string } {
  if (stored === undefined) return {};
  if (!isSealedSecret(stored)) return { secret: stored };
  if (!box) return { error: 'the webhook secret is encrypted and this process has no secret key' };
  try {
    return { secret: box.open(stored) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}
