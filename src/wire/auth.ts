/** The app-wide secret as a Bearer token (HUB-ID-06): required only once users are configured. */
import { unauthorized } from '../protocol/index.js';
import type { Hub } from '../hub/index.js';

const BEARER = /^Bearer[ \t]+(\S.*)$/i;

/** Resolves when the request may proceed; throws a 401 HubError otherwise. */
export async function authorize(hub: Hub, request: Request): Promise<void> {
  if (!hub.usersConfigured) return;
  const header = request.headers.get('authorization');
  const token = header ? BEARER.exec(header.trim())?.[1]?.trim() : undefined;
  if (!token) throw unauthorized('this hub needs Authorization: Bearer <application secret>');
  if (!(await hub.verifySecret(token))) throw unauthorized('the Bearer token is not the application secret');
}
