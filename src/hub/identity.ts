/**
 * The seed proposal's identity: one app-wide secret, user groups mapped to one persistent random
 * topic each (HUB-ID-01..09). Only a salted SHA-256 of the secret is kept.
 */
import { badRequest, forbidden, unauthorized } from '../protocol/index.js';
import { base64url, constantTimeEqual, randomToken } from './ids.js';
import type { CryptoSource } from './ports.js';

/** The users file: `{ "secret": "...", "groups": [["gkustas61", "georgek"], ["joe", "joe2"]] }`. */
export interface UsersConfig {
  secret: string;
  groups: string[][];
}

/** What is persisted: no secret in clear. */
export interface IdentityRecord {
  salt: string;
  secretHash: string;
  /** username → topic */
  users: Record<string, string>;
}

const encoder = new TextEncoder();

/** Validates a users file, throwing an Error that says what is wrong (HUB-ID-09). */
export function validateUsersConfig(value: unknown): UsersConfig {
  if (typeof value !== 'object' || value === null) throw new Error('users file must be a JSON object { "secret": "...", "groups": [[...]] }');
  const { secret, groups } = value as Record<string, unknown>;
  if (typeof secret !== 'string' || secret.length === 0) throw new Error('users file: "secret" must be a non-empty string');
  if (!Array.isArray(groups)) throw new Error('users file: "groups" must be an array of arrays of user names');
  const seen = new Map<string, number>();
  groups.forEach((group, g) => {
    if (!Array.isArray(group) || group.some((u) => typeof u !== 'string' || u === '')) {
      throw new Error(`users file: groups[${g}] must be an array of non-empty user names`);
    }
    for (const user of group as string[]) {
      if (seen.has(user) && seen.get(user) !== g) throw new Error(`users file: user ${JSON.stringify(user)} is listed in two groups`);
      seen.set(user, g);
    }
  });
  return { secret, groups: groups as string[][] };
}

/** A user's topic; own entries only, so names such as `constructor` belong to no group. */
function topicOf(users: Record<string, string>, username: string): string | undefined {
  return Object.hasOwn(users, username) && typeof users[username] === 'string' ? users[username] : undefined;
}

export class Identity {
  private record: IdentityRecord | undefined;

  constructor(private readonly crypto: CryptoSource, restored?: IdentityRecord) {
    this.record = restored;
  }

  /** True once a users file was configured. */
  get configured(): boolean {
    return this.record !== undefined;
  }

  /** The record to persist. */
  toRecord(): IdentityRecord | undefined {
    return this.record;
  }

  private async digest(salt: string, secret: string): Promise<Uint8Array> {
    return this.crypto.sha256(encoder.encode(`${salt}:${secret}`));
  }

  /**
   * Applies a users file. Members of a group keep the topic any of them had; new groups get a
   * fresh random topic. Returns the topics of all groups.
   */
  async configure(config: UsersConfig): Promise<string[]> {
    const valid = validateUsersConfig(config);
    const previous = this.record;
    const salt = previous && (await this.verify(valid.secret)) ? previous.salt : base64url(this.crypto.randomBytes(16));
    const secretHash = base64url(await this.digest(salt, valid.secret));
    const users: Record<string, string> = Object.create(null) as Record<string, string>;
    const topics: string[] = [];
    for (const group of valid.groups) {
      const kept = group.map((u) => (previous ? topicOf(previous.users, u) : undefined)).find((t) => t !== undefined);
      const topic = kept ?? randomToken(this.crypto);
      for (const user of group) users[user] = topic;
      topics.push(topic);
    }
    this.record = { salt, secretHash, users };
    return topics;
  }

  /** Checks a presented secret in constant time over fixed-length digests (HUB-ID-07). */
  async verify(secret: string): Promise<boolean> {
    const rec = this.record;
    if (!rec) return false;
    const presented = base64url(await this.digest(rec.salt, secret));
    return constantTimeEqual(encoder.encode(presented), encoder.encode(rec.secretHash));
  }

  /** GetTopic: the topic of a user's group (HUB-ID-01..05). */
  async getTopic(username: string | undefined | null, secret: string | undefined | null): Promise<string> {
    if (!username || !secret) throw badRequest('gettopic needs both username and secret', 'required');
    if (!(await this.verify(secret))) throw unauthorized('the secret is not the application secret');
    const topic = topicOf(this.record!.users, username);
    if (!topic) throw forbidden(`user ${JSON.stringify(username)} belongs to no group`);
    return topic;
  }
}
