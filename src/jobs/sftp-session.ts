import { createHash, randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { CallguardError, cgError } from '../domain/errors.js';
import { hostKeyFingerprint, type SftpTarget } from '../store/file-server-schemas.js';
import { FileServerHostPolicy } from './file-server-hosts.js';
import { checkFileName, checkRelativePath, isInside } from './remote-path.js';
import { sftpReadAhead } from './sftp-read-ahead.js';

/** How long connecting (TCP + SSH handshake + login) and each SFTP operation may take by default. */
export const SFTP_TIMEOUT_MS = 15_000;

const where = (target: SftpTarget) => `file server ${target.host}:${target.port}`;

/** ssh2's words for what went wrong, in an operator's words; `permanent`: retrying cannot help. */
function describeSshError(target: SftpTarget, error: Error & { level?: string }, timeoutMs: number) {
  const m = error.message;
  if (
    /before handshake|Bad identification|Protocol mismatch|Bad packet length|Invalid packet|Handshake failed/i.test(
      m,
    )
  ) {
    return {
      message: `${where(target)} does not speak SSH (${m}): is this the SFTP port of the server?`,
      permanent: true,
    };
  }
  if (/Timed out while waiting for handshake/i.test(m)) {
    return {
      message: `${where(target)} accepted the connection but did not complete the SSH handshake within ${Math.round(timeoutMs / 1000)} s`,
      permanent: false,
    };
  }
  if (/Keepalive timeout/i.test(m)) {
    return { message: `${where(target)} stopped answering (SSH keepalive timed out)`, permanent: false };
  }
  if (error.level === 'client-authentication' || /authentication methods failed/i.test(m)) {
    return { message: `${where(target)} refused the login: ${m}`, permanent: true };
  }
  return { message: `${where(target)} cannot be reached: ${m}`, permanent: false };
}

const unavailable = (target: SftpTarget, error: Error, timeoutMs: number) => {
  const { message, permanent } = describeSshError(target, error, timeoutMs);
  return cgError('CG_ERR_UNAVAILABLE', message, {
    host: target.host,
    port: target.port,
    ...(permanent ? { permanent: true } : {}),
  });
};

/** `work` or, after `ms`, a CG_ERR_UNAVAILABLE naming the operation the file server did not answer. */
async function answeredWithin<T>(target: SftpTarget, what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          cgError(
            'CG_ERR_UNAVAILABLE',
            `${where(target)} did not answer ${what} within ${Math.round(ms / 1000)} s`,
            { host: target.host, port: target.port },
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

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
    private readonly timeoutMs: number,
    private readonly failure: () => Error | undefined,
  ) {}

  /**
   * Connects and logs in. The host must pass the operator's allowlist (the address checked is the one
   * connected to) and present the pinned host key (or, with none pinned, the one seen first is
   * recorded). Every error of the connection, before and after it is ready, is handled here: before
   * ready it fails open(); after, it ends the connection, and the operation or stream in flight fails
   * with it (ssh2 fails pending SFTP requests when the connection closes). A peer that stops
   * answering is found by SSH keepalives (three missed in timeoutMs).
   */
  static async open(target: SftpTarget, timeoutMs = SFTP_TIMEOUT_MS): Promise<SftpSession> {
    const address = await (target.hostPolicy ?? FileServerHostPolicy.ANY).resolve(target.host);
    const pinned = target.hostKeySha256 === undefined ? undefined : hostKeyFingerprint(target.hostKeySha256);
    let presented: string | undefined;
    const client = new Client();
    let failure: Error | undefined;
    let settle: ((error?: Error) => void) | undefined;
    const keyRefused = () =>
      cgError(
        'CG_ERR_CONFLICT',
        `file server ${target.host}:${target.port} presented host key ${presented}, but ${pinned} is pinned for it; nothing was read or written. If the server's key was changed on purpose, register the file server again with the new key`,
        { host: target.host, pinned, presented },
      );
    client.on('error', (e: Error) => {
      const refused = pinned !== undefined && presented !== undefined && presented !== pinned;
      failure ??= refused ? keyRefused() : unavailable(target, e, timeoutMs);
      if (settle) settle(failure);
      else client.end();
    });
    const config: ConnectConfig = {
      host: address,
      port: target.port,
      username: target.username,
      readyTimeout: timeoutMs,
      keepaliveInterval: Math.max(Math.floor(timeoutMs / 3), 200),
      keepaliveCountMax: 3,
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
    try {
      await new Promise<void>((resolve, reject) => {
        settle = (error) => {
          settle = undefined;
          if (error) reject(error);
          else resolve();
        };
        client.once('ready', () => settle?.());
        client.once('close', () =>
          settle?.(
            failure ?? unavailable(target, new Error('the connection closed before login'), timeoutMs),
          ),
        );
        // A bad host name or an unusable key throws here rather than emitting 'error'.
        try {
          client.connect(config);
        } catch (error) {
          settle?.(unavailable(target, error as Error, timeoutMs));
        }
      });
      const sftp = await answeredWithin(
        target,
        'the SFTP subsystem request',
        timeoutMs,
        new Promise<SFTPWrapper>((resolve, reject) =>
          client.sftp((e, s) => (e ? reject(unavailable(target, e, timeoutMs)) : resolve(s))),
        ),
      );
      sftp.on('error', (e: Error) => {
        failure ??= unavailable(target, e, timeoutMs);
      });
      const realRoot = await answeredWithin(
        target,
        'realpath of the root',
        timeoutMs,
        realpath(sftp, target.root),
      ).catch((e: Error) => {
        if (e instanceof CallguardError) throw e;
        throw cgError(
          'CG_ERR_UNAVAILABLE',
          `the root folder "${target.root}" of file server ${target.host} is not readable: ${e.message}`,
        );
      });
      return new SftpSession(client, sftp, target, realRoot, timeoutMs, () => failure);
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
      real = await answeredWithin(
        this.target,
        `realpath of "${relative}"`,
        this.timeoutMs,
        realpath(this.sftp, joined),
      );
    } catch (error) {
      if (error instanceof CallguardError) throw error;
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

  /**
   * A read stream of root/path/fileName. When the connection is lost mid-file the stream fails with
   * the reason (it never just ends short: a short file would import as if complete).
   */
  async openRead(path: string, fileName: string): Promise<Readable> {
    const real = await this.confined(posix.join(checkRelativePath(path), checkFileName(fileName)), 'path');
    const raw = sftpReadAhead(this.sftp, real);
    // ssh2 fails a read cut short with its own words ("No response from server"): the reader gets
    // the reason in ours, as CG_ERR_UNAVAILABLE (an outage, retried), through this pass-through.
    const stream = new PassThrough({ highWaterMark: 256 * 1024 });
    raw.on('error', (e: Error) => stream.destroy(this.failure() ?? this.lostMidTransfer(e)));
    stream.on('close', () => raw.destroy());
    raw.pipe(stream);
    this.failOnLoss(stream);
    return stream;
  }

  private lostMidTransfer(error?: Error) {
    return cgError(
      'CG_ERR_UNAVAILABLE',
      `${where(this.target)} closed the connection mid-transfer${error ? ` (${error.message})` : ''}`,
      { host: this.target.host, port: this.target.port },
    );
  }

  /** Destroys `stream` with the connection's failure when the connection closes before the stream did. */
  private failOnLoss(stream: Readable | Writable): void {
    const onClose = () => {
      if (stream.destroyed || ('writableFinished' in stream && stream.writableFinished)) return;
      if ('readableEnded' in stream && stream.readableEnded) return;
      stream.destroy(this.failure() ?? this.lostMidTransfer());
    };
    this.client.once('close', onClose);
    stream.once('close', () => this.client.off('close', onClose));
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
    this.failOnLoss(stream);
    const commit = async () => {
      await answeredWithin(
        this.target,
        'the removal of the old file',
        this.timeoutMs,
        new Promise<void>((resolve) => this.sftp.unlink(final, () => resolve())),
      );
      await answeredWithin(
        this.target,
        'the rename of the finished file',
        this.timeoutMs,
        new Promise<void>((resolve, reject) =>
          this.sftp.rename(temp, final, (e) => (e ? reject(e) : resolve())),
        ),
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
