import assert from 'node:assert/strict';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  assertPublicTarget,
  guardedLookup,
  isPrivateAddress,
  parseWebhookUrl,
  TargetRefusedError,
} from '../../src/notify/target-guard.js';
import { WebhookSender } from '../../src/notify/webhook-delivery.js';
import { WebhookReceiver } from './webhook-receiver.js';

describe('webhook target guard', () => {
  it('knows loopback, link-local, private and reserved addresses, IPv4 and IPv6', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      'fd12:3456::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:10.0.0.1',
      '64:ff9b::a9fe:a9fe',
      '2002:c0a8:0101::1',
      'ff02::1',
    ]) {
      assert.equal(isPrivateAddress(a), true, a);
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      assert.equal(isPrivateAddress(a), false, a);
    }
  });

  it('refuses every address that is not global unicast, IPv4-compatible and NAT64 forms included', () => {
    for (const a of [
      '::127.0.0.1',
      '::7f00:1',
      '::10.0.0.1',
      '::169.254.169.254',
      '::ffff:169.254.169.254',
      '64:ff9b::7f00:1',
      '2001:db8::1',
      '100::1',
      '2001::1',
      '192.0.2.1',
      '198.18.0.1',
      '255.255.255.255',
      'not-an-address',
    ]) {
      assert.equal(isPrivateAddress(a), true, a);
    }
  });

  it('judges an IPv4 address and its IPv6 mapped, compatible and NAT64 forms alike', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const want = isPrivateAddress(v4);
        assert.equal(isPrivateAddress(`::ffff:${v4}`), want, `::ffff:${v4}`);
        assert.equal(isPrivateAddress(`64:ff9b::${v4}`), want, `64:ff9b::${v4}`);
        if (!v4.startsWith('0.')) assert.equal(isPrivateAddress(`::${v4}`), want, `::${v4}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts only http(s) URLs without credentials', () => {
    assert.equal(parseWebhookUrl('https://desk.example.com/hook').hostname, 'desk.example.com');
    for (const bad of [
      'ftp://x.example/',
      'file:///etc/passwd',
      'gopher://x/',
      'not a url',
      'https://u:p@x.example/',
    ]) {
      assert.throws(() => parseWebhookUrl(bad), /webhook URL/);
    }
  });

  it('resolves host names and refuses one that points at loopback', async () => {
    await assert.rejects(assertPublicTarget(new URL('http://localhost:9/')), /loopback|private/);
    await assert.rejects(assertPublicTarget(new URL('http://[::1]:9/')), /loopback|private/);
    await assert.rejects(assertPublicTarget(new URL('http://127.0.0.1:9/')), /loopback|private/);
  });

  it('refuses at connect time too: the socket lookup rejects a private resolution', async () => {
    const err = await new Promise<Error>((resolve) => {
      const socket = connect({ host: 'localhost', port: 9, lookup: guardedLookup as never });
      socket.on('error', resolve);
      socket.on('connect', () => {
        socket.destroy();
        resolve(new Error('connected'));
      });
    });
    assert.ok(err instanceof TargetRefusedError, String(err));
    assert.match(err.message, /localhost resolves to/);
  });

  describe('sending', () => {
    const receiver = new WebhookReceiver('guard-secret-0123456789');
    const sender = new WebhookSender();
    beforeAll(() => receiver.start());
    afterAll(async () => {
      await sender.close();
      await receiver.stop();
    });
    const req = (url: string, allowPrivateTargets: boolean) => ({
      url,
      secret: 'guard-secret-0123456789',
      eventId: 'e-1',
      type: 'agent.popup',
      body: '{}',
      attempt: 1,
      allowPrivateTargets,
      timeoutMs: 2000,
    });

    it('refuses a private target for good (no retry) and sends nothing', async () => {
      for (const url of [receiver.url('/a'), `http://localhost:${receiver.port}/a`]) {
        const r = await sender.send(req(url, false));
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.permanent, true);
      }
      assert.equal(receiver.at('/a').length, 0);
    });

    it('retries a name that does not resolve (a resolver hiccup), as it does when private targets are allowed', async () => {
      for (const allow of [false, true]) {
        const r = await sender.send(req('http://desk.callguard-test.invalid/hook', allow));
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.permanent, false, `allowPrivateTargets ${allow}: ${JSON.stringify(r)}`);
      }
      // a URL that can never be sent stays refused for good
      const bad = await sender.send(req('ftp://desk.example.com/hook', false));
      assert.equal(!bad.ok && bad.permanent, true);
    });

    it('sends to it when the tenant allows private targets', async () => {
      const r = await sender.send(req(`http://localhost:${receiver.port}/b`, true));
      assert.deepEqual(r, { ok: true, status: 200 });
      assert.equal(receiver.at('/b')[0]?.signatureValid, true);
    });
  });
});
