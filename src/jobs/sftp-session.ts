import { createHash, randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { cgError } from '../domain/errors.js';
import { FileServerHostPolicy } from './file-server-hosts.js';
import { checkFileName, checkRelativePath, isInside } from './remote-path.js';

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
  readonly hostPolicy?: FileServerHostPolicy;
  /** Absolute folder on the server that every path is relative to. */
  readonly root: string;
}

const unavailable = (target: SftpTarget, error: Error) =>
  cgError(
    'CG_ERR_UNAVAILABLE',
    `file server ${target.host}:${target.port} cannot be reached: ${error.message}`,
    { host: target.host, port: target.port },
  );

/**
 * One SFTP connection confined to a file server's root: every path is checked by name first
 * (remote-path.ts) and then on the server with realpath, so `..` and symlinks out of the root are
 * refused before a byte is read or written.
 */
export class SftpSession {
  private constructor(
    private readonly client: Client,
    private readonly sftp: SFTPWrapper,
    private readonly target: SftpTarget,
    private readonly realRoot: string,
  ) {}

  static async open(target: SftpTarget, timeoutMs = 15_000): Promise<SftpSession> {
    // The address checked against the allowlist is the one connected to (no second DNS answer).
    const address = await (target.hostPolicy ?? FileServerHostPolicy.ANY).resolve(target.host);
    const pinned = target.hostKeySha256 === undefined ? undefined : hostKeyFingerprint(target.hostKeySha256);
    let presented: string | undefined;
    const client = new Client();
    const config: ConnectConfig = {
      host: address,
      port: target.port,
      username: target.username,
      readyTimeout: timeoutMs,
      ...(target.password ? { password: target.password } : {}),
      ...(target.privateKey ? { privateKey: target.privateKey } : {}),
      ...(target.passphrase ? { passphrase: target.passphrase } : {}),
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        presented = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
        if (pinned !== undefined) return verify(presented === pinned);
        if (!target.onFirstHostKey) return verify(true);
        target.onFirstHostKey(presented).then(
          () => verify(true),
          () => verify(false),
        );
      },
    };
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (e) => {
        if (pinned !== undefined && presented !== undefined && presented !== pinned) {
          return reject(
            cgError(
              'CG_ERR_CONFLICT',
              `file server ${target.host}:${target.port} presented host key ${presented}, but ${pinned} is pinned for it; nothing was read or written. If the server's key was changed on purpose, register the file server again with the new key`,
              { host: target.host, pinned, presented },
            ),
          );
        }
        reject(unavailable(target, e));
      });
      client.connect(config);
    });
    client.on('error', () => {});
    try {
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
        client.sftp((e, s) => (e ? reject(unavailable(target, e)) : resolve(s))),
      );
      const realRoot = await realpath(sftp, target.root).catch((e: Error) => {
        throw cgError(
          'CG_ERR_UNAVAILABLE',
          `the root folder "${target.root}" of file server ${target.host} is not readable: ${e.message}`,
        );
      });
      return new SftpSession(client, sftp, target, realRoot);
    } catch (error) {
      client.end();
      throw error;
    }
  }

  close(): void {
    this.client.end();
  }

  /** The real path of `relative` under the root, refused when it resolves outside the root. */
  private async confined(relative: string, what: string): Promise<string> {
    const joined = posix.join(this.realRoot, checkRelativePath(relative, what));
    let real: string;
    try {
      real = await realpath(this.sftp, joined);
    } catch (error) {
      throw cgError('CG_ERR_NOT_FOUND', `${what} "${relative}" does not exist on the file server`, {
        reason: (error as Error).message,
      });
    }
    if (!isInside(this.realRoot, real)) {
      throw cgError(
        'CG_ERR_INPUT_INVALID',
        `${what} "${relative}" is refused: it leads outside the file server's root (a link out of the root)`,
        { field: what },
      );
    }
    return real;
  }

  /** A read stream of root/path/fileName. */
  async openRead(path: string, fileName: string): Promise<Readable> {
    const real = await this.confined(posix.join(checkRelativePath(path), checkFileName(fileName)), 'path');
    return this.sftp.createReadStream(real, { highWaterMark: 256 * 1024 });
  }

  /** A write stream creating root/path/fileName (the folder must exist); written under a temporary name, renamed on finish. */
  async openWrite(
    path: string,
    fileName: string,
  ): Promise<{ stream: Writable; commit: () => Promise<void> }> {
    const dir = await this.confined(path === '' ? '.' : path, 'path');
    const name = checkFileName(fileName);
    const final = posix.join(dir, name);
    // A fresh name, created exclusively ('wx': O_CREAT|O_EXCL): never written through a link someone
    // placed under a predictable temporary name.
    const temp = posix.join(dir, `.${name}.${randomUUID()}.part`);
    const stream = this.sftp.createWriteStream(temp, { flags: 'wx', highWaterMark: 256 * 1024 });
    const commit = async () => {
      await new Promise<void>((resolve) => this.sftp.unlink(final, () => resolve()));
      await new Promise<void>((resolve, reject) =>
        this.sftp.rename(temp, final, (e) => (e ? reject(e) : resolve())),
      );
    };
    return { stream, commit };
  }

  get root(): string {
    return this.realRoot;
  }

  get host(): string {
    return this.target.host;
  }
}

/** A fingerprint as `ssh-keygen -l` prints it: "SHA256:" and unpadded base64. */
export const hostKeyFingerprint = (text: string): string =>
  `SHA256:${text.replace(/^SHA256:/, '').replace(/=+$/, '')}`;

function realpath(sftp: SFTPWrapper, path: string): Promise<string> {
  return new Promise((resolve, reject) => sftp.realpath(path, (e, p) => (e ? reject(e) : resolve(p))));
}
