// The hook's command runner: output, exit codes, input, and errors that name the command, as the execa runner's do.
import { describe, expect, it } from 'vitest';
import { childExec } from '../../src/edges/child-exec';

describe('childExec', () => {
  it('returns stdout and stderr without the final newline, and a non-zero exit code unless check is set', async () => {
    expect(await childExec('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({ exitCode: 3, stdout: 'out', stderr: 'err' });
  });

  it('feeds input on stdin and runs with LC_ALL=C', async () => {
    expect((await childExec('sh', ['-c', 'cat; echo "$LC_ALL"'], { input: 'line\n' })).stdout).toBe('line\nC');
  });

  it('with check, a failure names the command, its exit code and its stderr', async () => {
    await expect(childExec('sh', ['-c', 'echo "RTNETLINK answers: File exists" >&2; exit 2'], { check: true }))
      .rejects.toThrow(/sh -c .* failed with exit code 2: RTNETLINK answers: File exists/);
  });

  it('a command that is not installed says so', async () => {
    await expect(childExec('no-such-command-vnd', [])).rejects.toThrow(expect.objectContaining({ code: 'NETWORK', hint: 'install the package that provides no-such-command-vnd' }));
  });

  it('a command that exits without reading its input is not an error of ours', async () => {
    expect((await childExec('true', [], { input: 'x'.repeat(1 << 20) })).exitCode).toBe(0);
  });

  it('a command killed by a signal says so, whatever its check', async () => {
    await expect(childExec('sh', ['-c', 'kill -9 $$'])).rejects.toThrow(/sh -c .* could not run: killed by SIGKILL/);
  });
});
