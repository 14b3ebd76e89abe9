import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgError } from './domain/errors.js';

const VERSION = 'v1';

/**
 * Secrets at rest (file server passwords and private keys, scheduled export passwords): AES-256-GCM,
 * a fresh 96-bit nonce per value, stored as `v1.<nonce>.<tag>.<ciphertext>` in base64url. A value
 * changed in Redis fails authentication instead of decrypting to garbage.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
    this.key = key;
  }

  /** The key from CALLGUARD_SECRET_KEY (any string of 16+ characters, stretched with scrypt). */
  static fromPassphrase(passphrase: string): SecretBox {
    return new SecretBox(scryptSync(passphrase, 'callguard-secret-box', 32));
  }

  /**
   * The configured key, or for development a random one created once in the data folder (0600).
   * Nodes that share Redis must share the key: set CALLGUARD_SECRET_KEY in production.
   */
  static fromConfig(config: { CALLGUARD_SECRET_KEY?: string; CALLGUARD_DATA_DIR: string }): SecretBox {
    if (config.CALLGUARD_SECRET_KEY) return SecretBox.fromPassphrase(config.CALLGUARD_SECRET_KEY);
    const file = join(config.CALLGUARD_DATA_DIR, 'secret.key');
    if (!existsSync(file)) {
      mkdirSync(config.CALLGUARD_DATA_DIR, { recursive: true });
      writeFileSync(file, randomBytes(32).toString('base64'), { flag: 'wx', mode: 0o600 });
      chmodSync(file, 0o600);
    }
    return SecretBox.fromPassphrase(readFileSync(file, 'utf8').trim());
  }

  seal(plain: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, nonce.toString('base64url'), tag.toString('base64url'), data.toString('base64url')].join(
      '.',
    );
  }

  open(sealed: string): string {
    const [version, nonce, tag, data] = sealed.split('.');
    if (version !== VERSION || nonce === undefined || tag === undefined || data === undefined) {
      throw cgError('CG_ERR_INTERNAL', 'a stored secret is not in the expected format');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw cgError(
        'CG_ERR_INTERNAL',
        'a stored secret cannot be decrypted: CALLGUARD_SECRET_KEY differs from the key it was stored with',
      );
    }
  }
}
