/** Where callbacks may point (HUB-WEBSUB-02): the origin rule on its own, with the spellings SSRF tricks use. */
import { describe, expect, it } from 'vitest';
import { callbackPolicy } from '../../../src/websub/index.js';
import { isHubError } from '../../../src/protocol/index.js';

function refused(policy: ReturnType<typeof callbackPolicy>, url: string): string | undefined {
  try {
    policy.check(url);
    return undefined;
  } catch (error) {
    expect(isHubError(error) && error.status === 400).toBe(true);
    return (error as Error).message;
  }
}

describe('HUB-WEBSUB-02: the callback origin rule', () => {
  it('HUB-WEBSUB-02: with no allow list, any port on 127.0.0.1, localhost and [::1] (as URL parsing normalises them), nothing else', () => {
    const loopback = callbackPolicy([]);
    for (const ok of ['http://127.0.0.1:8123/cb', 'https://localhost/cb', 'http://LOCALHOST:1/x?y=1', 'http://[::1]:9000/', 'http://127.1:80/', 'http://2130706433/cb']) {
      expect(refused(loopback, ok), ok).toBeUndefined();
    }
    for (const bad of ['http://0.0.0.0:8123/', 'http://127.0.0.2/', 'http://[::ffff:127.0.0.1]/', 'http://localhost.evil.example/', 'http://127.0.0.1.nip.io/', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.1/']) {
      expect(refused(loopback, bad), bad).toMatch(/not allowed/);
    }
  });

  it('HUB-WEBSUB-02: with an allow list, exactly those origins (scheme, host and port), and loopback is no longer implied', () => {
    const listed = callbackPolicy(['https://ris.example.org', 'http://10.0.0.7:8080']);
    expect(refused(listed, 'https://ris.example.org/fhircast?x=1')).toBeUndefined();
    expect(refused(listed, 'http://10.0.0.7:8080/cb')).toBeUndefined();
    for (const bad of ['http://ris.example.org/', 'https://ris.example.org:8443/', 'http://10.0.0.7/', 'http://127.0.0.1:8080/', 'https://evil.example.org/ris.example.org']) {
      expect(refused(listed, bad), bad).toMatch(/not allowed/);
    }
    expect(listed.describe).toContain('https://ris.example.org');
  });

  it('HUB-WEBSUB-02: only http(s), no credentials, an absolute URL', () => {
    const loopback = callbackPolicy([]);
    expect(refused(loopback, 'ftp://127.0.0.1/')).toMatch(/http or https/);
    expect(refused(loopback, 'file:///etc/passwd')).toMatch(/http or https/);
    expect(refused(loopback, 'http://u:p@127.0.0.1/')).toMatch(/credentials/);
    expect(refused(loopback, '/relative/cb')).toMatch(/absolute/);
    expect(refused(loopback, '')).toMatch(/absolute/);
  });
});
