import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The `ACL SETUSER` rules documented in test/reliability/ACL.md, with the placeholders filled in
 * (everything after `ACL SETUSER <user>`), so that the tests cannot drift from the document.
 */
export function documentedAclRule(user: string, password: string, namespace: string): string[] {
  const doc = readFileSync(join(__dirname, '..', 'reliability', 'ACL.md'), 'utf8');
  const line = doc.split('\n').find((candidate) => candidate.startsWith('ACL SETUSER '));
  if (!line) throw new Error('ACL.md has no line starting with "ACL SETUSER"');
  return line
    .replace('<user>', user)
    .replace('<password>', password)
    .replace('<namespace>', namespace)
    .split(/\s+/)
    .slice(3);
}

/**
 * The extra `ACL SETUSER` rules test/reliability/ACL.md documents for Redis Cluster (the line
 * starting with `ACL SETUSER <user> +cluster`), everything after `ACL SETUSER <user>`.
 */
export function documentedClusterAclAdditions(): string[] {
  const doc = readFileSync(join(__dirname, '..', 'reliability', 'ACL.md'), 'utf8');
  const line = doc.split('\n').find((candidate) => candidate.startsWith('ACL SETUSER <user> +cluster'));
  if (!line) throw new Error('ACL.md has no line starting with "ACL SETUSER <user> +cluster"');
  return line.split(/\s+/).slice(3);
}
