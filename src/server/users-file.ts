/** Reads and validates the users file of `tabcast serve --users` (HUB-ID-09). */
import { readFile } from 'node:fs/promises';
import { validateUsersConfig, type UsersConfig } from '../hub/index.js';

/**
 * Loads a users file, throwing an Error that says what is wrong. Messages never quote the file:
 * it holds the application secret.
 */
export async function readUsersFile(path: string): Promise<UsersConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `users file ${path} does not exist` : `cannot read users file ${path} (${code ?? 'error'})`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`users file ${path} is not valid JSON; expected {"secret": "...", "groups": [["user1", "user2"], ...]}`);
  }
  try {
    return validateUsersConfig(value);
  } catch (error) {
    throw new Error(`users file ${path} is not usable: ${(error as Error).message}`, { cause: error });
  }
}
