import { randomUUID } from 'node:crypto';
import { cgError } from '../domain/errors.js';
import {
  type FileServerHostCheck,
  type FileServerInput,
  type FileServerView,
  fileServerInputSchema,
  hostKeyFingerprint,
  type SftpTarget,
  type StoredFileServer,
  storedFileServerSchema,
} from './file-server-schemas.js';
import { parseInput, readHashObject, readHashObjects } from './hash-objects.js';
import { bulkKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';

/** Seals and opens secrets at rest (src/secret-box.ts). */
export interface Sealer {
  seal(plain: string): string;
  open(sealed: string): string;
}

const view = (s: StoredFileServer): FileServerView => ({
  id: s.id,
  name: s.name,
  host: s.host,
  port: s.port,
  username: s.username,
  root: s.root,
  ...(s.hostKeySha256 ? { hostKeySha256: hostKeyFingerprint(s.hostKeySha256) } : {}),
  hasPassword: s.password !== undefined,
  hasPrivateKey: s.privateKey !== undefined,
  createdAt: s.createdAt,
});

/** A tenant's file servers (SFTP), secrets sealed with AES-256-GCM before they reach Redis. */
export class FileServerRepository {
  constructor(
    private readonly client: RedisClient,
    private readonly sealer: Sealer,
    /** Unset: any host (FileServerHostPolicy.ANY). */
    private readonly hostPolicy?: FileServerHostCheck,
  ) {}

  /**
   * Registers a file server. Its host must be one the operator allows (CALLGUARD_FILE_SERVER_HOSTS);
   * its host key is pinned: the one given, or the one presented at the first connect.
   */
  async create(tenant: string, input: FileServerInput): Promise<FileServerView> {
    const i = parseInput(fileServerInputSchema, input, 'file server');
    if (this.hostPolicy && !this.hostPolicy.allowsAny) await this.hostPolicy.resolve(i.host);
    const stored: StoredFileServer = {
      id: randomUUID(),
      name: i.name,
      host: i.host,
      port: i.port,
      username: i.username,
      root: i.root,
      ...(i.hostKeySha256 ? { hostKeySha256: hostKeyFingerprint(i.hostKeySha256) } : {}),
      ...(i.password ? { password: this.sealer.seal(i.password) } : {}),
      ...(i.privateKey ? { privateKey: this.sealer.seal(i.privateKey) } : {}),
      ...(i.passphrase ? { passphrase: this.sealer.seal(i.passphrase) } : {}),
      createdAt: Date.now(),
    };
    await this.client.hset(bulkKeys(tenant).fileServers, stored.id, JSON.stringify(stored));
    return view(stored);
  }

  async list(tenant: string): Promise<FileServerView[]> {
    return (await readHashObjects(this.client, bulkKeys(tenant).fileServers, storedFileServerSchema)).map(
      view,
    );
  }

  async get(tenant: string, id: string): Promise<FileServerView | undefined> {
    const s = await readHashObject(this.client, bulkKeys(tenant).fileServers, id, storedFileServerSchema);
    return s ? view(s) : undefined;
  }

  async delete(tenant: string, id: string): Promise<boolean> {
    return (await this.client.hdel(bulkKeys(tenant).fileServers, id)) === 1;
  }

  /** Trust on first use: records the host key a server presented at its first connect. */
  private async pinHostKey(tenant: string, id: string, fingerprint: string): Promise<void> {
    const s = await readHashObject(this.client, bulkKeys(tenant).fileServers, id, storedFileServerSchema);
    if (!s) throw cgError('CG_ERR_NOT_FOUND', `file server "${id}" does not exist`);
    if (s.hostKeySha256 !== undefined) {
      // Another worker pinned it meanwhile: the same key passes, another one does not.
      if (hostKeyFingerprint(s.hostKeySha256) === fingerprint) return;
      throw cgError('CG_ERR_CONFLICT', `file server "${id}" has host key ${s.hostKeySha256} pinned`);
    }
    const next: StoredFileServer = { ...s, hostKeySha256: fingerprint };
    await this.client.hset(bulkKeys(tenant).fileServers, id, JSON.stringify(next));
  }

  /** The connection settings with secrets opened, for a worker about to connect. */
  async target(tenant: string, id: string): Promise<SftpTarget> {
    const s = await readHashObject(this.client, bulkKeys(tenant).fileServers, id, storedFileServerSchema);
    if (!s) throw cgError('CG_ERR_NOT_FOUND', `file server "${id}" does not exist`);
    return {
      host: s.host,
      port: s.port,
      username: s.username,
      root: s.root,
      ...(s.hostKeySha256
        ? { hostKeySha256: s.hostKeySha256 }
        : { onFirstHostKey: (fingerprint: string) => this.pinHostKey(tenant, id, fingerprint) }),
      ...(this.hostPolicy ? { hostPolicy: this.hostPolicy } : {}),
      ...(s.password ? { password: this.sealer.open(s.password) } : {}),
      ...(s.privateKey ? { privateKey: this.sealer.open(s.privateKey) } : {}),
      ...(s.passphrase ? { passphrase: this.sealer.open(s.passphrase) } : {}),
    };
  }
}
