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
