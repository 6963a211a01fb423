import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import tls from 'node:tls';
import type { AddressInfo, Socket } from 'node:net';
import diagnosticsChannel from 'node:diagnostics_channel';
import { Agent, request } from 'undici';
import { BlockedAddressError, guardedConnector, type LookupAll } from '../src/delivery/ssrf/guarded-connector.ts';
import { NetworkPolicy, blockedUrlReason, parseAllowNetworks } from '../src/delivery/ssrf/network-policy.ts';

// ---------------------------------------------------------------------------
// Address / URL classification table
// ---------------------------------------------------------------------------

interface Case {
  /** An IP literal for NetworkPolicy.check, or a URL (contains "://") for blockedUrlReason. */
  input: string;
  /** null = allowed; otherwise a pattern the reason must match. */
  blocked: RegExp | null;
}

const CASES: Case[] = [
  // IPv4 ranges
  { input: '127.0.0.1', blocked: /^address 127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8\)$/ },
  { input: '127.255.255.254', blocked: /loopback.*127\.0\.0\.0\/8/ },
  { input: '0.0.0.0', blocked: /unspecified.*0\.0\.0\.0\/8/ },
  { input: '0.1.2.3', blocked: /0\.0\.0\.0\/8/ },
  { input: '10.0.0.5', blocked: /^address 10\.0\.0\.5 is in a private network \(10\.0\.0\.0\/8\)$/ },
  { input: '172.16.0.1', blocked: /private network \(172\.16\.0\.0\/12\)/ },
  { input: '172.31.255.255', blocked: /private network \(172\.16\.0\.0\/12\)/ },
  { input: '192.168.1.1', blocked: /private network \(192\.168\.0\.0\/16\)/ },
  { input: '169.254.1.1', blocked: /link-local address \(169\.254\.0\.0\/16\)/ },
  { input: '169.254.169.254', blocked: /metadata endpoint.*169\.254\.0\.0\/16/ },
  { input: '100.64.0.1', blocked: /carrier-grade NAT.*100\.64\.0\.0\/10/ },
  { input: '100.127.255.255', blocked: /100\.64\.0\.0\/10/ },
  { input: '224.0.0.1', blocked: /multicast.*224\.0\.0\.0\/4/ },
  { input: '239.255.255.250', blocked: /multicast/ },
  { input: '255.255.255.255', blocked: /broadcast/ },
  { input: '240.0.0.1', blocked: /reserved.*240\.0\.0\.0\/4/ },
  { input: '192.0.0.8', blocked: /IETF protocol assignments.*192\.0\.0\.0\/24/ },
  { input: '192.0.2.10', blocked: /documentation.*192\.0\.2\.0\/24/ },
  { input: '198.51.100.7', blocked: /documentation.*198\.51\.100\.0\/24/ },
  { input: '203.0.113.9', blocked: /documentation.*203\.0\.113\.0\/24/ },
  { input: '198.18.0.1', blocked: /benchmarking.*198\.18\.0\.0\/15/ },
  { input: '198.19.255.255', blocked: /benchmarking/ },
  // IPv6 ranges
  { input: '::1', blocked: /loopback.*::1\/128/ },
  { input: '::', blocked: /unspecified/ },
  { input: 'fe80::1', blocked: /link-local.*fe80::\/10/ },
  { input: 'febf:ffff::1', blocked: /link-local/ },
  { input: 'fc00::1', blocked: /unique local.*fc00::\/7/ },
  { input: 'fd12:3456::1', blocked: /unique local/ },
  { input: 'fd00:ec2::254', blocked: /AWS EC2 instance metadata/ },
  { input: 'ff02::1', blocked: /multicast.*ff00::\/8/ },
  { input: '2001:db8::1', blocked: /documentation.*2001:db8::\/32/ },
  { input: '2001:2::1', blocked: /benchmarking.*2001:2::\/48/ },
  { input: '100::1', blocked: /discard.*100::\/64/ },
  { input: 'fec0::1', blocked: /site-local/ },
  { input: '2001::1', blocked: /2001::\/23/ }, // Teredo
  { input: '5f00::1', blocked: /not a global unicast/ },
  // Embedded IPv4 forms
  { input: '::ffff:127.0.0.1', blocked: /IPv4-mapped.*of 127\.0\.0\.1, which is a loopback/ },
  { input: '::ffff:a00:5', blocked: /IPv4-mapped.*of 10\.0\.0\.5, which is in a private network \(10\.0\.0\.0\/8\)/ },
  { input: '::ffff:169.254.169.254', blocked: /IPv4-mapped.*metadata endpoint/ },
  { input: '::127.0.0.1', blocked: /IPv4-compatible.*of 127\.0\.0\.1/ },
  { input: '::a9fe:a9fe', blocked: /IPv4-compatible.*of 169\.254\.169\.254/ },
  { input: '2002:7f00:1::', blocked: /6to4.*of 127\.0\.0\.1/ },
  { input: '2002:c0a8:101:1::1', blocked: /6to4.*of 192\.168\.1\.1/ },
  { input: '64:ff9b::10.0.0.1', blocked: /NAT64 form \(64:ff9b::\/96\) of 10\.0\.0\.1/ },
  { input: '64:ff9b::a9fe:a9fe', blocked: /NAT64.*169\.254\.169\.254/ },
  { input: '64:ff9b:1::7f00:1', blocked: /local-use NAT64.*of 127\.0\.0\.1/ },
  // Public addresses, including embedded forms of public IPv4
  { input: '8.8.8.8', blocked: null },
  { input: '1.1.1.1', blocked: null },
  { input: '2606:4700:4700::1111', blocked: null },
  { input: '2a00:1450:4001:80b::200e', blocked: null },
  { input: '172.32.0.1', blocked: null },
  { input: '100.128.0.1', blocked: null },
  { input: '::ffff:8.8.8.8', blocked: null },
  { input: '64:ff9b::808:808', blocked: null },
  { input: '2002:808:808::1', blocked: null },
  // Not an IP literal: refused by check() (fail closed)
  { input: 'example.com', blocked: /not an IP address/ },
  { input: '0177.0.0.1', blocked: /not an IP address/ },
  // URLs: WHATWG normalisation turns these into loopback / unspecified literals
  { input: 'http://2130706433/', blocked: /address 127\.0\.0\.1 is a loopback/ },
  { input: 'http://0x7f.1/', blocked: /address 127\.0\.0\.1 is a loopback/ },
  { input: 'http://017700000001/', blocked: /address 127\.0\.0\.1 is a loopback/ },
  { input: 'http://127.1:8080/hook', blocked: /127\.0\.0\.1 is a loopback/ },
  { input: 'http://127.0.0.1./', blocked: /127\.0\.0\.1 is a loopback/ },
  { input: 'http://0/', blocked: /address 0\.0\.0\.0 is in the unspecified/ },
  { input: 'http://[::ffff:7f00:1]/', blocked: /IPv4-mapped.*127\.0\.0\.1/ },
  { input: 'http://[::ffff:127.0.0.1]/', blocked: /IPv4-mapped.*127\.0\.0\.1/ },
  { input: 'http://[::1]:3000/', blocked: /::1 is a loopback/ },
  { input: 'https://169.254.169.254/latest/meta-data/', blocked: /metadata endpoint/ },
  { input: 'https://[fd00:ec2::254]/', blocked: /AWS EC2 instance metadata/ },
  { input: 'http://0xa9.0xfe.0xa9.0xfe/', blocked: /169\.254\.169\.254 is the cloud instance metadata/ },
  { input: 'https://8.8.8.8/hook', blocked: null },
  { input: 'https://[2606:4700:4700::1111]/hook', blocked: null },
  // Hostnames are checked at connect time, not here
  { input: 'http://localhost/', blocked: null },
  { input: 'https://example.com/webhook', blocked: null },
  { input: 'https://metadata.google.internal/', blocked: null },
  { input: 'not a url', blocked: null },
];

describe('NetworkPolicy.check / blockedUrlReason', () => {
  const policy = new NetworkPolicy();
  assert.ok(CASES.length >= 40);
  for (const c of CASES) {
    const isUrl = c.input.includes('://') || c.input === 'not a url';
    it(`${isUrl ? 'url' : 'ip'} ${c.input} → ${c.blocked === null ? 'allowed' : 'blocked'}`, () => {
      let reason: string | null;
      if (isUrl) {
        reason = blockedUrlReason(c.input, policy);
      } else {
        const verdict = policy.check(c.input);
        reason = verdict.allowed ? null : (verdict.reason ?? '<no reason>');
        assert.equal(verdict.allowed, c.blocked === null);
      }
      if (c.blocked === null) assert.equal(reason, null);
      else {
        assert.ok(reason !== null, 'expected a reason');
        assert.match(reason, c.blocked);
        assert.doesNotMatch(reason, /\n/);
      }
    });
  }
});

// ---------------------------------------------------------------------------
// Allowlist
// ---------------------------------------------------------------------------

describe('allowlist', () => {
  it('127.0.0.0/8 allows loopback (and its IPv4-mapped form) but still blocks 10.0.0.1', () => {
    const policy = new NetworkPolicy(parseAllowNetworks('127.0.0.0/8'));
    assert.deepEqual(policy.check('127.0.0.1'), { allowed: true });
    assert.deepEqual(policy.check('127.10.0.1'), { allowed: true });
    assert.deepEqual(policy.check('::ffff:127.0.0.1'), { allowed: true });
    assert.equal(policy.check('10.0.0.1').allowed, false);
    assert.equal(policy.check('::1').allowed, false);
    assert.equal(blockedUrlReason('http://2130706433/', policy), null);
    assert.match(blockedUrlReason('http://10.0.0.1/', policy) ?? '', /private network/);
  });

  it('IPv6 entries work', () => {
    const policy = new NetworkPolicy(parseAllowNetworks('127.0.0.0/8,::1/128, fd00::/8'));
    assert.equal(policy.check('::1').allowed, true);
    assert.equal(policy.check('fd12::1').allowed, true);
    assert.equal(policy.check('fc00::1').allowed, false);
  });

  it('parseAllowNetworks normalises, accepts bare addresses, ignores empties', () => {
    assert.deepEqual(parseAllowNetworks(''), []);
    assert.deepEqual(parseAllowNetworks('  '), []);
    assert.deepEqual(
      parseAllowNetworks(' 127.0.0.0/8, ::1/128,,10.1.2.3 FD00::/8 '),
      ['127.0.0.0/8', '::1/128', '10.1.2.3/32', 'fd00::/8'],
    );
  });

  for (const bad of ['localhost', '10.0.0.0/33', '::1/129', '10.0.0.1/8', 'fd00::1/8', '10.0.0.0/', '/8', '10.0.0.0/08', '10.0.0.0/-1', '300.0.0.0/8', 'fe80::1%eth0/128']) {
    it(`parseAllowNetworks rejects ${JSON.stringify(bad)} with a one-line message naming it`, () => {
      assert.throws(
        () => parseAllowNetworks(`127.0.0.0/8,${bad}`),
        (err: unknown) => {
          assert.ok(err instanceof Error);
          assert.ok(err.message.includes(JSON.stringify(bad)), err.message);
          assert.doesNotMatch(err.message, /\n/);
          return true;
        },
      );
    });
  }

  it('NetworkPolicy validates its entries too', () => {
    assert.throws(() => new NetworkPolicy(['nope']), /"nope"/);
  });
});

// ---------------------------------------------------------------------------
// Real undici requests through guardedConnector
// ---------------------------------------------------------------------------

function findBlocked(err: unknown): BlockedAddressError | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || e === undefined || seen.has(e)) continue;
    seen.add(e);
    if (e instanceof BlockedAddressError) return e;
    if (e instanceof AggregateError) queue.push(...e.errors);
    if (e instanceof Error) queue.push(e.cause);
  }
  return undefined;
}

async function expectBlocked(promise: Promise<unknown>, pattern: RegExp): Promise<BlockedAddressError> {
  try {
    await promise;
  } catch (err) {
    const blocked = findBlocked(err);
    assert.ok(blocked, `expected a BlockedAddressError, got ${String(err)}`);
    assert.equal(blocked.code, 'HOOKD_BLOCKED_ADDRESS');
    assert.match(blocked.message, pattern);
    return blocked;
  }
  assert.fail('request was not blocked');
}

describe('guardedConnector with undici', () => {
  let server: http.Server;
  let port = 0;
  let hits = 0;
  const agents: Agent[] = [];
  const connected: string[] = [];
  const onConnected = (message: unknown): void => {
    const socket = (message as { socket: Socket }).socket;
    connected.push(`${socket.remoteAddress}:${socket.remotePort}`);
  };

  const agentWith = (opts: { allow?: string[]; lookup?: LookupAll; connectTimeoutMs?: number; connections?: number }): Agent => {
    const agent = new Agent({
      ...(opts.connections ? { connections: opts.connections } : {}),
      connect: guardedConnector({
        policy: new NetworkPolicy(opts.allow ?? []),
        connectTimeoutMs: opts.connectTimeoutMs ?? 2000,
        ...(opts.lookup ? { lookup: opts.lookup } : {}),
      }),
    });
    agents.push(agent);
    return agent;
  };

  const failLookup: LookupAll = async (hostname) => {
    throw new Error(`unexpected DNS lookup of ${hostname}`);
  };

  before(async () => {
    server = http.createServer((req, res) => {
      hits++;
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        res.end();
      } else if (req.url === '/close') {
        res.writeHead(200, { connection: 'close' });
        res.end('bye');
      } else {
        res.end('ok');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    diagnosticsChannel.subscribe('undici:client:connected', onConnected);
  });

  after(async () => {
    diagnosticsChannel.unsubscribe('undici:client:connected', onConnected);
    await Promise.all(agents.map((a) => a.close()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('blocks 127.0.0.1 without an allowlist, before dialling', async () => {
    const before = hits;
    const err = await expectBlocked(
      request(`http://127.0.0.1:${port}/`, { dispatcher: agentWith({ lookup: failLookup }) }),
      /^address 127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8\)$/,
    );
    assert.equal(err.address, '127.0.0.1');
    assert.equal(hits, before);
  });

  it('blocks IPv6 literals, before dialling', async () => {
    await expectBlocked(
      request(`http://[::ffff:127.0.0.1]:${port}/`, { dispatcher: agentWith({ lookup: failLookup }) }),
      /IPv4-mapped.*127\.0\.0\.1/,
    );
  });

  it('the error surfaces unwrapped from undici request()', async () => {
    await assert.rejects(
      request(`http://127.0.0.1:${port}/`, { dispatcher: agentWith({}) }),
      (err: unknown) => err instanceof BlockedAddressError && err.code === 'HOOKD_BLOCKED_ADDRESS',
    );
  });

  it('delivers with allowlist 127.0.0.0/8', async () => {
    const res = await request(`http://127.0.0.1:${port}/`, {
      dispatcher: agentWith({ allow: ['127.0.0.0/8'], lookup: failLookup }),
    });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'ok');
  });

  it('blocks localhost via the default (real) lookup', async () => {
    await expectBlocked(
      request(`http://localhost:${port}/`, { dispatcher: agentWith({}) }),
      /^host localhost resolved to .*loopback/,
    );
  });

  it('blocks a hostname resolved to 10.0.0.1', async () => {
    const lookup: LookupAll = async () => [{ address: '10.0.0.1', family: 4 }];
    const err = await expectBlocked(
      request('http://internal.test/', { dispatcher: agentWith({ lookup }) }),
      /^host internal\.test resolved to 10\.0\.0\.1: address 10\.0\.0\.1 is in a private network \(10\.0\.0\.0\/8\)$/,
    );
    assert.equal(err.hostname, 'internal.test');
    assert.equal(err.address, '10.0.0.1');
  });

  it('blocks mixed public + private answers as a whole (without dialling the public one)', async () => {
    const lookup: LookupAll = async () => [
      { address: '1.2.3.4', family: 4 },
      { address: '2606:4700:4700::1111', family: 6 },
      { address: '169.254.169.254', family: 4 },
    ];
    const before = connected.length;
    await expectBlocked(
      request('http://mixed.test/', { dispatcher: agentWith({ lookup }) }),
      /^host mixed\.test resolved to 169\.254\.169\.254 \(one of 3 addresses.*metadata endpoint/,
    );
    assert.equal(connected.length, before);
  });

  it('blocks an AAAA record in an embedded-IPv4 form', async () => {
    const lookup: LookupAll = async () => [{ address: '64:ff9b::a9fe:a9fe', family: 6 }];
    await expectBlocked(
      request('http://nat64.test/', { dispatcher: agentWith({ lookup }) }),
      /NAT64.*169\.254\.169\.254/,
    );
  });

  it('rebinding: one lookup per connection, and the checked address is the one dialled', async () => {
    let calls = 0;
    // First answer is allowed (allowlisted); every later answer is a blocked address.
    const lookup: LookupAll = async (hostname) => {
      calls++;
      assert.equal(hostname, 'rebind.test');
      return [{ address: calls === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    };
    // One connection per origin, so the keep-alive reuse below is deterministic.
    const agent = agentWith({ allow: ['127.0.0.1/32'], lookup, connections: 1 });
    const before = connected.length;

    const r1 = await request(`http://rebind.test:${port}/`, { dispatcher: agent });
    assert.equal(r1.statusCode, 200);
    assert.equal(await r1.body.text(), 'ok');
    assert.equal(calls, 1);
    assert.deepEqual(connected.slice(before), [`127.0.0.1:${port}`]);

    // Same keep-alive connection: no new lookup. The server then closes it.
    const r2 = await request(`http://rebind.test:${port}/close`, { dispatcher: agent });
    assert.equal(await r2.body.text(), 'bye');
    assert.equal(calls, 1);

    // A new connection resolves again (exactly once) and is checked again: now blocked.
    await expectBlocked(
      request(`http://rebind.test:${port}/`, { dispatcher: agent }),
      /^host rebind\.test resolved to 127\.0\.0\.2: .*loopback/,
    );
    assert.equal(calls, 2);
    assert.deepEqual(connected.slice(before), [`127.0.0.1:${port}`]);
  });

  it('does not follow a 302 to the metadata endpoint', async () => {
    const before = hits;
    const res = await request(`http://127.0.0.1:${port}/redirect`, {
      dispatcher: agentWith({ allow: ['127.0.0.0/8'], lookup: failLookup }),
    });
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, 'http://169.254.169.254/latest/meta-data/');
    await res.body.dump();
    assert.equal(hits, before + 1);
    assert.match(blockedUrlReason(String(res.headers.location), new NetworkPolicy(['127.0.0.0/8'])) ?? '', /metadata/);
  });

  it('passes lookup errors through the callback', async () => {
    const lookup: LookupAll = async (hostname) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    };
    await assert.rejects(
      request('http://nowhere.test/', { dispatcher: agentWith({ lookup }) }),
      (err: unknown) => (err as { code?: string }).code === 'ENOTFOUND',
    );
    const empty: LookupAll = async () => [];
    await assert.rejects(
      request('http://empty.test/', { dispatcher: agentWith({ lookup: empty }) }),
      (err: unknown) => (err as { code?: string }).code === 'ENOTFOUND',
    );
  });

  it('bounds a lookup that never answers by connectTimeoutMs', async () => {
    const lookup: LookupAll = () => new Promise(() => {});
    await assert.rejects(
      request(`http://slow.test:${port}/`, {
        dispatcher: agentWith({ allow: ['127.0.0.0/8'], lookup, connectTimeoutMs: 50 }),
      }),
      (err: unknown) => (err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT',
    );
  });

  it('TLS keeps the original hostname for SNI and certificate verification', async () => {
    const seenServernames: (string | undefined)[] = [];
    const tlsServer = tls.createServer({
      key: TEST_KEY,
      cert: TEST_CERT,
      SNICallback: (servername, cb) => {
        seenServernames.push(servername);
        cb(null, tls.createSecureContext({ key: TEST_KEY, cert: TEST_CERT }));
      },
    });
    tlsServer.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    const tlsPort = (tlsServer.address() as AddressInfo).port;
    try {
      const lookup: LookupAll = async () => [{ address: '127.0.0.1', family: 4 }];
      await assert.rejects(
        request(`https://tls.test:${tlsPort}/`, { dispatcher: agentWith({ allow: ['127.0.0.1'], lookup }) }),
        (err: unknown) => {
          // The self-signed certificate is rejected: verification is on, and it ran for tls.test.
          assert.match(String((err as { code?: string }).code), /CERT|SELF_SIGNED/);
          return true;
        },
      );
      assert.deepEqual(seenServernames, ['tls.test']);
    } finally {
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    }
  });

  it('never throws out of the connector', async () => {
    const connect = guardedConnector({ policy: new NetworkPolicy(), connectTimeoutMs: 1000 });
    const err = await new Promise<Error | null>((resolve) => {
      assert.doesNotThrow(() => {
        connect({ hostname: '10.0.0.1', host: '10.0.0.1', protocol: 'http:', port: '' }, (...args) => resolve(args[0]));
      });
    });
    assert.ok(err instanceof BlockedAddressError);
  });
});

// Self-signed EC certificate for "tls.test" (test only; never trusted).
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg/gzHcpPWSkzxxxcS
NCw3HKYleaCYGZfcklHlvBG7m2OhRANCAATYbqV/bQSlpVjZZ6Eel98LhyH+4ww0
ZNXpLZoLvcTP4BVrXz8H2ZgsAH4v9W/F5wnkcQgDwvg7EVMrJPy2uPq2
-----END PRIVATE KEY-----
`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBkjCCATigAwIBAgIUKsR58o1wV5JMxi9ZLKHplu6wbFYwCgYIKoZIzj0EAwIw
EzERMA8GA1UEAwwIdGxzLnRlc3QwIBcNMjYxMTI5MjEzMzI0WhgPMjEyNjExMDUy
MTMzMjRaMBMxETAPBgNVBAMMCHRscy50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAE2G6lf20EpaVY2WehHpffC4ch/uMMNGTV6S2aC73Ez+AVa18/B9mYLAB+
L/VvxecJ5HEIA8L4OxFTKyT8trj6tqNoMGYwHQYDVR0OBBYEFGfLfMpRZDWJIBNT
Dz8z0Wy0m2a0MB8GA1UdIwQYMBaAFGfLfMpRZDWJIBNTDz8z0Wy0m2a0MA8GA1Ud
EwEB/wQFMAMBAf8wEwYDVR0RBAwwCoIIdGxzLnRlc3QwCgYIKoZIzj0EAwIDSAAw
RQIgXEeOIFC+3km4R/XkdcdDgB144Mwqjc2ohfr/r/kGYRICIQCIgH6Mp2DpHQXi
dUrEDeI/Mp/Nto2NDDV105uvHEe1eQ==
-----END CERTIFICATE-----
`;
