import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { cgError } from '../domain/errors.js';
import { checkFileName, checkRelativePath, isInside } from './remote-path.js';

/** What it takes to reach a file server; secrets already decrypted. */
export interface SftpTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password?: string;
  readonly privateKey?: string;
  readonly passphrase?: string;
  /** SHA-256 of the server's host key, base64 (as `ssh-keygen -lf` prints after "SHA256:"); unset: any key. */
  readonly hostKeySha256?: string;
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
    const client = new Client();
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.username,
      readyTimeout: timeoutMs,
      ...(target.password ? { password: target.password } : {}),
      ...(target.privateKey ? { privateKey: target.privateKey } : {}),
      ...(target.passphrase ? { passphrase: target.passphrase } : {}),
      ...(target.hostKeySha256
        ? {
            hostVerifier: (key: Buffer) =>
              createHash('sha256').update(key).digest('base64').replace(/=+$/, '') ===
              target.hostKeySha256!.replace(/^SHA256:/, '').replace(/=+$/, ''),
          }
        : {}),
    };
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (e) => reject(unavailable(target, e)));
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
    const temp = posix.join(dir, `.${name}.part`);
    const stream = this.sftp.createWriteStream(temp, { highWaterMark: 256 * 1024 });
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

function realpath(sftp: SFTPWrapper, path: string): Promise<string> {
  return new Promise((resolve, reject) => sftp.realpath(path, (e, p) => (e ? reject(e) : resolve(p))));
}
