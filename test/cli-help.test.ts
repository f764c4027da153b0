// `trousseau … --help` answers on stdout with exit code 0, for every command: asked-for usage is not an error (some
// commands printed it to stderr, so `trousseau oidc --help | less` showed nothing).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;
const run = async (args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, DATABASE_URL: '' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
};

test('every command’s --help: usage on stdout, nothing on stderr, exit code 0', async () => {
  for (const args of [['--help'], ['import', '--help'], ['publipostage', '--help'], ['admin', '--help'], ['jeton', '--help'], ['oidc', '--help'], ['oidc', '-h']]) {
    const r = await run(args);
    assert.equal(r.code, 0, `${args.join(' ')}: exit code (stderr: ${r.stderr})`);
    assert.match(r.stdout, /usage|trousseau/i, `${args.join(' ')}: usage on stdout`);
    assert.equal(r.stderr.trim(), '', `${args.join(' ')}: nothing on stderr`);
  }
});

test('trousseau --help says in a line what each command does', async () => {
  const r = await run(['--help']);
  for (const command of ['import', 'publipostage', 'admin', 'jeton', 'oidc']) assert.match(r.stdout, new RegExp(`^  ${command} +\\S.{20,}$`, 'm'), command);
});

test('an unknown command or option is still an error: usage on stderr, exit code 2', async () => {
  for (const args of [['inconnue'], ['oidc', '--inconnue']]) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit code`);
    assert.match(r.stderr, /usage|inconnue/i, `${args.join(' ')}: said on stderr`);
  }
});
