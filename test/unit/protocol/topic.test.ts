/** Topic ids as every door receives them (src/protocol/topic.ts). */
import { describe, expect, it } from 'vitest';
import { validateTopic } from '../../../src/protocol/topic.js';
import { isHubError } from '../../../src/protocol/outcome.js';

function refusal(topic: unknown, where?: string): string {
  try {
    validateTopic(topic, where);
  } catch (error) {
    if (isHubError(error) && error.status === 400) return error.message;
    throw error;
  }
  throw new Error('accepted');
}

describe('validateTopic', () => {
  it('HUB-SUB-16 accepts any printable topic up to 256 characters, trimmed', () => {
    expect(validateTopic('  DrXRay ')).toBe('DrXRay');
    expect(validateTopic('a b')).toBe('a b');
    expect(validateTopic('ü-Ω')).toBe('ü-Ω');
    expect(validateTopic('x'.repeat(256))).toBe('x'.repeat(256));
  });

  it('HUB-SUB-16 refuses a missing, blank, too long or unprintable topic, naming where it came from', () => {
    expect(refusal(undefined)).toBe('hub.topic is missing');
    expect(refusal(7)).toBe('hub.topic is missing');
    expect(refusal('   ', 'event.hub.topic')).toBe('event.hub.topic is missing');
    expect(refusal('x'.repeat(257))).toBe('hub.topic is longer than 256 characters');
    expect(refusal('a\u0000b')).toBe('hub.topic contains characters that are not printable');
    expect(refusal('a\tb')).toBe('hub.topic contains characters that are not printable');
  });
});
