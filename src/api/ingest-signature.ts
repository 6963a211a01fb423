// Signed ingest (POST /ingest/{id}): a producer proves it holds the subscription's secret by
// signing the body, either with Standard Webhooks headers (webhook-id, webhook-timestamp,
// webhook-signature: the timestamp must be recent, and the id makes a replay harmless) or with
// X-Hub-Signature-256 (the body alone: it cannot tell a replay from a new request). With
// Standard Webhooks headers present, they decide, whatever X-Hub-Signature-256 says.
//
// A request without an API key is let in on its signature alone (auth.ts). Its fate is decided
// here before its body is parsed: an unknown subscription, one that does not require signed
// ingest, an unsigned and a badly signed request all get the same 401, so nothing tells which
// subscriptions exist or require signatures, and no 400/415/422 answers before that.
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Subscription } from '../domain/index.ts';
import { signingSecrets } from '../signing/signing-secrets.ts';
import { verifyHubSignature } from '../signing/standard-webhooks.ts';
import { verify } from '../signing/verify.ts';
import type { SubscriptionLookup } from '../store/contracts.ts';
import { KEYLESS_INGEST_REFUSED, unauthorized } from './auth.ts';
import { ApiError } from './errors.ts';
import { isUuid } from './schemas.ts';

export type IngestSignature =
  | { scheme: 'none' }
  | { scheme: 'x-hub-signature-256' }
  | { scheme: 'standard-webhooks'; webhookId: string }
  | { scheme: 'invalid'; message: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set while deciding a keyless ingest request, before its body was parsed. */
    ingestSignature?: IngestSignature;
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Checks the request's signature against the subscription's secrets (both during a rotation's grace period). */
export function checkIngestSignature(subscription: Subscription, raw: Uint8Array, headers: IncomingHttpHeaders, nowMs: number, toleranceSeconds: number): IngestSignature {
  const secrets = signingSecrets(subscription, nowMs);
  if (headers['webhook-signature'] !== undefined) {
    const results = secrets.map((secret) => verify({ secret, payload: raw, headers: headers as Record<string, string | string[] | undefined>, toleranceSeconds, now: Math.floor(nowMs / 1000) }));
    const valid = results.find((result) => result.valid);
    if (valid?.valid) return { scheme: 'standard-webhooks', webhookId: valid.id };
    const reason = results[0]!.valid ? 'no matching signature' : results[0]!.reason;
    return {
      scheme: 'invalid',
      message: reason === 'timestamp outside tolerance'
        ? `webhook-timestamp is more than ${toleranceSeconds} seconds from this server's clock (HOOKD_INGEST_SIGNATURE_TOLERANCE_SECONDS).`
        : `The Standard Webhooks signature does not verify with the subscription secret (${reason}).`,
    };
  }
  const hub = header(headers, 'x-hub-signature-256');
  if (hub === undefined) return { scheme: 'none' };
  return secrets.some((secret) => verifyHubSignature(secret, raw, hub))
    ? { scheme: 'x-hub-signature-256' }
    : { scheme: 'invalid', message: 'X-Hub-Signature-256 does not match the body signed with the subscription secret.' };
}

/** Reads a request body up to `limit` bytes; a larger one is refused with 413. */
async function readBody(payload: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of payload) {
    length += (chunk as Buffer).length;
    if (length > limit) {
      payload.destroy();
      throw new ApiError(413, 'payload_too_large', `The body is larger than ${limit} bytes, the most this server accepts (HOOKD_MAX_PAYLOAD_BYTES).`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * A preParsing hook of the ingest route: decides a request let in on its signature alone
 * (request.auth.by 'ingest-signature') from the raw bytes, before they are parsed, and hands
 * the same bytes on to the parser.
 */
export function keylessIngestCheck(subscriptions: SubscriptionLookup, clock: () => number, toleranceSeconds: number) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: Readable): Promise<Readable> => {
    if (request.auth?.by !== 'ingest-signature') return payload;
    const id = (request.params as { subscription_id?: string }).subscription_id ?? '';
    const subscription = isUuid(id) ? await subscriptions.get(id.toLowerCase()) : undefined;
    if (!subscription?.requireSignedIngest) throw unauthorized(reply, KEYLESS_INGEST_REFUSED);
    const raw = await readBody(payload, request.routeOptions.bodyLimit ?? Number.POSITIVE_INFINITY);
    const signature = checkIngestSignature(subscription, raw, request.headers, clock(), toleranceSeconds);
    if (signature.scheme === 'invalid' || signature.scheme === 'none') throw unauthorized(reply, KEYLESS_INGEST_REFUSED);
    request.ingestSignature = signature;
    return Readable.from([raw], { objectMode: false });
  };
}
