import { EXIT_OK, EXIT_USAGE, parseTenantsCommand, runTenantsCommand } from './tenants-cli';

describe('npm run tenants: arguments', () => {
  it.each([
    [['limit', '--tenant', 'acme', '--concurrency', '8'], { name: 'limit', tenantId: 'acme', concurrency: 8 }],
    [
      ['limit', '--concurrency=8', '--tenant', ' acme ', '--by', 'ada'],
      { name: 'limit', tenantId: 'acme', concurrency: 8, by: 'ada' },
    ],
    [['unlimit', '--tenant', 'acme'], { name: 'unlimit', tenantId: 'acme' }],
    [['list'], { name: 'list' }],
    [['list', '--tenant', 'acme'], { name: 'list', tenantId: 'acme' }],
    [[], { name: 'help' }],
    [['help'], { name: 'help' }],
    [['limit', '--help'], { name: 'help' }],
    [['-h'], { name: 'help' }],
  ])('reads %j', (argv, command) => {
    expect(parseTenantsCommand(argv)).toEqual(command);
  });

  it.each([
    [['limit', '--concurrency', '8'], 'limit needs --tenant <tenant>'],
    [['limit', '--tenant', '  ', '--concurrency', '8'], 'limit needs --tenant <tenant>'],
    [['limit', '--tenant', 'acme'], 'limit needs --concurrency <n>'],
    [['limit', '--tenant', 'acme', '--concurrency', '0'], 'expected a concurrency from 1 to 10000, got "0"'],
    [['limit', '--tenant', 'acme', '--concurrency', '10001'], 'from 1 to 10000, got "10001"'],
    [['limit', '--tenant', 'acme', '--concurrency', 'lots'], 'from 1 to 10000, got "lots"'],
    [['limit', '--tenant', 'acme', '--concurrency', '8', '--by', ''], '--by needs a name'],
    [['limit', '--tenant', 'acme', '--concurrency', '8', 'more'], 'unexpected argument more'],
    [['unlimit'], 'unlimit needs --tenant <tenant>'],
    [['unlimit', '--tenant', 'acme', '--concurrency', '8'], 'unlimit takes no --concurrency'],
    [['unlimit', 'acme'], 'unexpected argument acme'],
    [['list', '--by', 'ada'], 'list takes no --by'],
    [['list', '--tenant', ''], 'list needs --tenant <tenant>'],
    [['frobnicate'], 'unknown command frobnicate'],
    [['list', '--rate', '1/s'], "Unknown option '--rate'"],
    [['limit', '--tenant'], "Option '--tenant <value>' argument missing"],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseTenantsCommand(argv)).toThrow(message);
  });

  it('answers bad arguments with exit code 2, the reason and the usage, without opening MongoDB', async () => {
    const openStore = jest.fn();
    let stderr = '';
    const io = { stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text) } };
    expect(await runTenantsCommand(['limit', '--tenant', 'acme', '--concurrency', '0'], openStore, io)).toBe(
      EXIT_USAGE,
    );
    expect(stderr).toMatch(/^tenants: expected a concurrency from 1 to 10000, got "0"\n\nusage: npm run tenants/);
    expect(openStore).not.toHaveBeenCalled();
  });

  it('prints the usage on --help, without opening MongoDB', async () => {
    const openStore = jest.fn();
    let stdout = '';
    const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true } };
    expect(await runTenantsCommand(['--help'], openStore, io)).toBe(EXIT_OK);
    expect(stdout).toMatch(/^usage: npm run tenants -- <command>/);
    expect(stdout).toContain('limit --tenant <tenant> --concurrency <n>');
    expect(openStore).not.toHaveBeenCalled();
  });
});
