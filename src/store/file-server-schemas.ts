import { z } from 'zod';

/** A file server as an admin registers it (POST /v1/file-servers). Secrets are write-only. */
export const fileServerInputSchema = z
  .object({
    name: z.string().trim().min(1).max(128),
    host: z
      .string()
      .trim()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9.:_-]+$/, 'a host name or an IP address'),
    port: z.number().int().min(1).max(65535).default(22),
    username: z.string().min(1).max(128),
    password: z.string().min(1).max(1024).optional(),
    privateKey: z.string().min(1).max(16_384).optional(),
    passphrase: z.string().min(1).max(1024).optional(),
    hostKeySha256: z
      .string()
      .regex(/^(SHA256:)?[A-Za-z0-9+/]{43}=?$/, 'the SHA256 fingerprint ssh-keygen -l prints')
      .optional(),
    root: z.string().startsWith('/', 'an absolute folder on the server, such as /srv/callguard').max(1024),
  })
  .strict()
  .refine((s) => s.password !== undefined || s.privateKey !== undefined, {
    message: 'give a password or a privateKey',
    path: ['password'],
  });
export type FileServerInput = z.input<typeof fileServerInputSchema>;

/** A file server as the API shows it: never a secret, only whether one is set. */
export const fileServerViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  host: z.string(),
  port: z.number(),
  username: z.string(),
  root: z.string(),
  hostKeySha256: z.string().optional(),
  hasPassword: z.boolean(),
  hasPrivateKey: z.boolean(),
  createdAt: z.number(),
});
export type FileServerView = z.infer<typeof fileServerViewSchema>;

/** As stored: the view's fields plus the sealed secrets. */
export const storedFileServerSchema = fileServerViewSchema
  .omit({ hasPassword: true, hasPrivateKey: true })
  .extend({
    password: z.string().optional(),
    privateKey: z.string().optional(),
    passphrase: z.string().optional(),
  });
export type StoredFileServer = z.infer<typeof storedFileServerSchema>;

/** A fingerprint as `ssh-keygen -l` prints it: "SHA256:" and unpadded base64. */
export const hostKeyFingerprint = (text: string): string =>
  `SHA256:${text.replace(/^SHA256:/, '').replace(/=+$/, '')}`;

/**
 * Where tenants' file servers may be (the operator's CALLGUARD_FILE_SERVER_HOSTS, FileServerHostPolicy
 * in src/jobs): checked when a server is registered and again, after DNS resolution, at every connect.
 */
export interface FileServerHostCheck {
  readonly allowsAny: boolean;
  /** The address to connect to; throws when the host is not one the operator allows. */
  resolve(host: string): Promise<string>;
}

/** What it takes to reach a file server; secrets already decrypted. */
export interface SftpTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password?: string;
  readonly privateKey?: string;
  readonly passphrase?: string;
  /**
   * SHA-256 of the server's host key, base64 (as `ssh-keygen -lf` prints after "SHA256:"). Unset: the
   * key presented at the first connect is handed to onFirstHostKey to be pinned (trust on first use).
   */
  readonly hostKeySha256?: string;
  /** Records the key of a server connected to for the first time; it is then required from then on. */
  readonly onFirstHostKey?: (fingerprint: string) => Promise<void>;
  /** The operator's allowlist of file-server hosts (default: any), checked after DNS resolution. */
  readonly hostPolicy?: FileServerHostCheck;
  /** Absolute folder on the server that every path is relative to. */
  readonly root: string;
}
