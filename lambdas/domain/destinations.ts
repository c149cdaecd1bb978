import { createHash } from 'node:crypto';
import * as z from 'zod/mini';
import { ActivationSource, TestEventType } from './activation-events.js';
import { DomainError, type ValidationIssue } from './errors.js';
import { eventPatternProblems, type EventPattern } from './event-pattern.js';
import { validationIssues } from './validation.js';

/**
 * Destinations (docs/activation.md): where activation events go. Each names a type (a webhook,
 * an SQS queue or a Lambda function), an EventBridge pattern choosing the events it gets, and the
 * traits copied into those events. A webhook's credential is a secret: it is kept by the bus (the
 * EventBridge connection in AWS, a private file locally) and never shown again.
 */
export const DestinationIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const DestinationTypes = ['webhook', 'sqs', 'lambda'] as const;
export type DestinationType = (typeof DestinationTypes)[number];

/** EventBridge names rules, API destinations and connections with at most 64 of `[.\-_A-Za-z0-9]`. */
const MaxBusResourceName = 64;

/**
 * The name of a destination's rule (and API destination and connection) on the bus: the stack's
 * prefix and the id, or, when that is too long, its start and a digest of the id after a `.`,
 * which no id contains. The same function names declared and API-managed destinations, so a
 * rule's metrics can be traced back to its destination.
 */
export function destinationResourceName(prefix: string, id: string): string {
  const name = `${prefix}-${id}`;
  if (name.length <= MaxBusResourceName) return name;
  const digest = createHash('sha256').update(id).digest('hex').slice(0, 12);
  return `${name.slice(0, MaxBusResourceName - digest.length - 1)}.${digest}`;
}

/** Most traits a destination may ask for: each is copied into every event it gets. */
export const MaxDestinationTraits = 50;

/** The detail field naming the destination an event was published for (rules match on it). */
export const DestinationIdField = 'destinationId';

/** Base error of destination definitions: what was refused, field by field. */
export class DestinationError extends DomainError {
  constructor(
    message: string,
    readonly details: readonly ValidationIssue[],
  ) {
    super(message);
  }
}

const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));
const pattern = z.record(z.string(), z.unknown());
const common = {
  pattern,
  traits: z._default(z.array(text(1, 200)).check(z.maxLength(MaxDestinationTraits)), []),
  // Consent purposes (context.consent.categoryPreferences) a profile must have granted, every one, to be sent here.
  purposes: z.optional(z.array(text(1, 100)).check(z.maxLength(20))),
  description: z.optional(text(0, 500)),
};

const apiKeyAuth = z.strictObject({
  type: z.literal('api_key'),
  header: z.string().check(z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'must be an HTTP header name')),
  // Left out on a PUT that keeps the secret already stored.
  value: z.optional(text(1, 2048)),
});
const basicAuth = z.strictObject({ type: z.literal('basic'), username: text(1, 512), password: z.optional(text(1, 512)) });

const bodySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('webhook'), url: text(1, 2048), auth: z.optional(z.discriminatedUnion('type', [apiKeyAuth, basicAuth])), ...common }),
  z.strictObject({ type: z.literal('sqs'), queueArn: z.string().check(z.regex(/^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/, 'must be an SQS queue ARN')), ...common }),
  z.strictObject({
    type: z.literal('lambda'),
    functionArn: z.string().check(z.regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$/, 'must be a Lambda function ARN')),
    ...common,
  }),
]);

/** A webhook's credential: sent with every delivery, stored only by the bus. */
export type DestinationSecret =
  | { readonly type: 'api_key'; readonly header: string; readonly value: string }
  | { readonly type: 'basic'; readonly username: string; readonly password: string };

/** A destination as stored and shown: everything but the secret, of which only the kind (and header) is kept. */
export type Destination = {
  readonly id: string;
  readonly pattern: EventPattern;
  readonly traits: readonly string[];
  /** Consent purposes a profile must have granted to be sent here. @default none: every profile */
  readonly purposes?: readonly string[];
  readonly description?: string;
} & (
  | { readonly type: 'webhook'; readonly url: string; readonly auth?: { readonly type: 'api_key'; readonly header: string } | { readonly type: 'basic'; readonly username: string } }
  | { readonly type: 'sqs'; readonly queueArn: string }
  | { readonly type: 'lambda'; readonly functionArn: string }
);

/** What a PUT (or a config file entry) declares: the destination and, for a webhook with auth, its secret unless it keeps the one stored. */
export interface DestinationDeclaration {
  readonly destination: Destination;
  readonly secret?: DestinationSecret;
}

const secretOf = (auth: { type: 'api_key'; header: string; value?: string | undefined } | { type: 'basic'; username: string; password?: string | undefined }): DestinationSecret | undefined => {
  if (auth.type === 'api_key') return auth.value === undefined ? undefined : { type: 'api_key', header: auth.header, value: auth.value };
  return auth.password === undefined ? undefined : { type: 'basic', username: auth.username, password: auth.password };
};

/** Where webhooks may point: only https in AWS; locally also plain http to this machine. */
export interface WebhookPolicy {
  readonly allowLoopbackHttp: boolean;
}

const LoopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

function urlProblem(raw: string, policy: WebhookPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL, e.g. https://hooks.example.com/cdp';
  }
  if (url.username || url.password) return 'must not carry credentials; use auth';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && policy.allowLoopbackHttp && LoopbackHosts.has(url.hostname)) return undefined;
  return policy.allowLoopbackHttp ? 'must use https (plain http only to 127.0.0.1 or localhost)' : 'must use https';
}

/** Reads a destination from a PUT body (or a config file entry), or throws DestinationError with every problem by field. */
export function parseDestination(id: string, body: unknown, policy: WebhookPolicy, root = 'body'): DestinationDeclaration {
  // Fields are named as in the body (`url`, `pattern.detail-type`), as the segment API names them; in a file, under its entry.
  const at = (field: string): string => (root === 'body' ? field : `${root}.${field}`);
  const issues: ValidationIssue[] = [];
  if (!DestinationIdPattern.test(id)) issues.push({ field: 'id', reason: 'must be 1 to 64 letters, digits, - or _, starting with a letter or digit' });
  const type = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined;
  if (!(DestinationTypes as readonly unknown[]).includes(type)) {
    issues.push({ field: at('type'), reason: `must be one of ${DestinationTypes.map((t) => JSON.stringify(t)).join(', ')}` });
    throw new DestinationError(`the destination is not valid: ${issues[0]!.field} ${issues[0]!.reason}`, issues);
  }
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    issues.push(...validationIssues(parsed.error.issues, body, root).map((issue) => (issue.field === root ? issue : { ...issue, field: at(issue.field) })));
    throw new DestinationError(`the destination is not valid: ${issues[0]!.field} ${issues[0]!.reason}`, issues);
  }
  const data = parsed.data;
  issues.push(...eventPatternProblems(data.pattern, at('pattern')));
  if (Object.hasOwn(data.pattern, 'detail') && typeof data.pattern.detail === 'object' && data.pattern.detail !== null && Object.hasOwn(data.pattern.detail, DestinationIdField)) {
    issues.push({ field: at(`pattern.detail.${DestinationIdField}`), reason: 'is set by the CDP for each destination; leave it out' });
  }
  if (data.type === 'webhook') {
    const problem = urlProblem(data.url, policy);
    if (problem) issues.push({ field: at('url'), reason: problem });
  }
  if (issues.length > 0) throw new DestinationError(`the destination is not valid: ${issues[0]!.field} ${issues[0]!.reason}`, issues);

  const shared = {
    id,
    pattern: data.pattern,
    traits: [...new Set(data.traits)],
    ...(data.purposes === undefined || data.purposes.length === 0 ? {} : { purposes: [...new Set(data.purposes)] }),
    ...(data.description === undefined ? {} : { description: data.description }),
  };
  switch (data.type) {
    case 'webhook': {
      const auth = data.auth;
      const shown = auth === undefined ? undefined : auth.type === 'api_key' ? { type: auth.type, header: auth.header } : { type: auth.type, username: auth.username };
      const secret = auth === undefined ? undefined : secretOf(auth);
      return { destination: { ...shared, type: 'webhook', url: data.url, ...(shown ? { auth: shown } : {}) }, ...(secret ? { secret } : {}) };
    }
    case 'sqs':
      return { destination: { ...shared, type: 'sqs', queueArn: data.queueArn } };
    case 'lambda':
      return { destination: { ...shared, type: 'lambda', functionArn: data.functionArn } };
  }
}

/** Reads the destinations declared in a file: `{ "destinations": { "<id>": { ... } } }` (other keys, such as an example's segments, are left alone). */
export function parseDestinationsFile(content: unknown, policy: WebhookPolicy): DestinationDeclaration[] {
  const file = z.object({ destinations: z.record(z.string(), z.unknown()) }).safeParse(content);
  if (!file.success) throw new DestinationError('a destinations file is {"destinations": {"<id>": {...}}}', validationIssues(file.error.issues, content, 'file'));
  return Object.entries(file.data.destinations).map(([id, body]) => parseDestination(id, body, policy, `destinations.${id}`));
}

/**
 * The pattern of a destination's rule on the bus: its own pattern, narrowed to the CDP's events
 * published for it. The publisher publishes one event per change and destination (each with the
 * traits that destination asked for), so a rule never sees another destination's traits.
 */
export function rulePattern(destination: Pick<Destination, 'id' | 'pattern'>): EventPattern {
  const own = destination.pattern;
  const detail = typeof own.detail === 'object' && own.detail !== null && !Array.isArray(own.detail) ? (own.detail as Record<string, unknown>) : {};
  const narrowed = { ...own, source: [ActivationSource], detail: { ...detail, [DestinationIdField]: [destination.id] } };
  // The destination's test events pass whatever its own pattern asks for.
  const test = { source: [ActivationSource], 'detail-type': [TestEventType], detail: { [DestinationIdField]: [destination.id] } };
  return { $or: [narrowed, test] };
}
