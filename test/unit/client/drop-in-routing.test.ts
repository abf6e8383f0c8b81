/** Issue 16, drop-in routing (DESIGN.md "Drop-in"): what goes to the in-page hub and what stays on the network. */
import { describe, expect, it } from 'vitest';
import { isRoutedRequest, isRoutedSocket } from '../../../src/client/drop-in.js';
import { registrableDomain, sameSite } from '../../../src/relay/same-site.js';

const HUB = 'https://hub.local/fhircast/hub';
const routed = (url: string) => isRoutedRequest(new URL(url), HUB);
const routedSocket = (url: string) => isRoutedSocket(new URL(url), HUB);

describe('I16 drop-in: requests', () => {
  it('routes the hub URL itself, below it on a segment boundary, and its .well-known', () => {
    expect(routed('https://hub.local/fhircast/hub')).toBe(true);
    expect(routed('https://hub.local/fhircast/hub/')).toBe(true);
    expect(routed('https://hub.local/fhircast/hub/topic-1')).toBe(true);
    expect(routed('https://hub.local/fhircast/hub/.well-known/fhircast-configuration?x=1')).toBe(true);
  });
  it('leaves everything else alone: /fhircast/hubbub, other paths and the root of the same host, other schemes, hosts and ports', () => {
    expect(routed('https://hub.local/fhircast/hubbub')).toBe(false);
    expect(routed('https://hub.local/fhircast')).toBe(false);
    expect(routed('https://hub.local/')).toBe(false);
    expect(routed('https://hub.local/.well-known/fhircast-configuration')).toBe(false);
    expect(routed('http://hub.local/fhircast/hub')).toBe(false);
    expect(routed('https://hub.local:8443/fhircast/hub')).toBe(false);
    expect(routed('https://other.local/fhircast/hub')).toBe(false);
  });
});

describe('I16 drop-in: sockets', () => {
  it('routes the endpoints (wss, or https as the constructor allows) and nothing outside the hub path', () => {
    expect(routedSocket('wss://hub.local/fhircast/hub/ws/abc')).toBe(true);
    expect(routedSocket('wss://hub.local/fhircast/hubbub/ws/abc')).toBe(false);
    expect(routedSocket('ws://hub.local/fhircast/hub/ws/abc')).toBe(false);
    expect(routedSocket('wss://other.local/fhircast/hub/ws/abc')).toBe(false);
  });
});

describe('I16 relay: same-site check', () => {
  it('treats sibling subdomains as one site and other registrable domains, schemes and country-code suffixes as others', () => {
    expect(sameSite('https://pacs.hospital.org', 'https://ris.hospital.org:8443')).toBe(true);
    expect(sameSite('http://a.tabcast.test:4404', 'http://b.tabcast.test:4404')).toBe(true);
    expect(sameSite('https://a.hospital.org', 'https://a.clinic.org')).toBe(false);
    expect(sameSite('http://a.hospital.org', 'https://a.hospital.org')).toBe(false);
    expect(sameSite('https://a.nhs.uk', 'https://b.nhs.uk')).toBe(false);
    expect(registrableDomain('pacs.trust.nhs.uk')).toBe('trust.nhs.uk');
    expect(sameSite('https://x.example.co.uk', 'https://y.other.co.uk')).toBe(false);
    expect(sameSite('http://127.0.0.1:1', 'http://127.0.0.2:1')).toBe(false);
  });
});

describe('I16 relay: data-allow-origins', () => {
  it('keeps exact origins (normalized as event.origin is) and drops anything that is not one', async () => {
    const { parseAllowOrigins } = await import('../../../src/relay/relay-host.js');
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      expect(parseAllowOrigins(' https://A.example.org/  http://b.example.org:8080 * null https://c.example.org/app ftp://d.example.org https://u:p@e.example.org ')).toEqual([
        'https://a.example.org',
        'http://b.example.org:8080',
      ]);
    } finally {
      console.error = original;
    }
    expect(errors).toHaveLength(5);
  });
});
