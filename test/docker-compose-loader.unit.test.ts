import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * docker-compose.yml as docker compose v2 reads it: scripts/compose-check loads it with compose-go, compose's own
 * loader (the Compose Specification's schema, merges, variables, references between services, volumes and
 * networks). test/docker-compose.unit.test.ts checks the file against the code through its own reading of the YAML;
 * here that reading is held to compose's.
 */
const ROOT = join(__dirname, '..');
const CHECK_DIR = join(ROOT, 'scripts', 'compose-check');
const BINARY = join(CHECK_DIR, 'bin', 'compose-check');

/**
 * Builds the checker where Go is installed (a build with nothing changed is a cache hit), else takes the binary that
 * `.ci/run` or an earlier build left. Without either, the check cannot run, and the test says so instead of passing.
 */
function buildComposeCheck(): string {
  const build = spawnSync('go', ['build', '-o', BINARY, '.'], { cwd: CHECK_DIR, encoding: 'utf8' });
  if ((build.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    if (existsSync(BINARY)) return BINARY;
    throw new Error(
      'Go is not installed, and scripts/compose-check/bin/compose-check has not been built: install Go ' +
        '(scripts/compose-check/go.mod names the version) to check docker-compose.yml with compose-go',
    );
  }
  if (build.error) throw build.error;
  if (build.status !== 0) throw new Error(`go build of scripts/compose-check failed:\n${build.stderr}`);
  return BINARY;
}

interface Loaded {
  status: number | null;
  stdout: string;
  stderr: string;
}

interface ResolvedService {
  image?: string;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition: string; restart?: boolean }>;
}

interface HandReadService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition?: string; restart?: boolean }>;
}

describe('docker-compose.yml, loaded by compose-go (docker compose v2’s loader)', () => {
  let check: string;
  const load = (file: string, env: NodeJS.ProcessEnv = {}): Loaded => {
    const run = spawnSync(check, [file], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  };

  beforeAll(() => {
    check = buildComposeCheck();
  }, 180_000);

  it('is a valid compose project, read the way the hand-written checks read it', () => {
    const loaded = load(join(ROOT, 'docker-compose.yml'));
    expect(loaded.stderr).toBe('');
    expect(loaded.status).toBe(0);

    const resolved = JSON.parse(loaded.stdout) as { name: string; services: Record<string, ResolvedService> };
    const handRead = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      name: string;
      services: Record<string, HandReadService>;
    };
    expect(resolved.name).toBe(handRead.name);
    expect(Object.keys(resolved.services).sort()).toEqual(Object.keys(handRead.services).sort());
    for (const [name, service] of Object.entries(handRead.services)) {
      const actual = resolved.services[name]!;
      expect({ name, image: actual.image, command: actual.command ?? undefined }).toEqual({
        name,
        image: service.image,
        command: service.command,
      });
      expect({ name, entrypoint: actual.entrypoint ?? undefined }).toEqual({ name, entrypoint: service.entrypoint });
      expect({ name, environment: actual.environment ?? {} }).toEqual({
        name,
        environment: Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)])),
      });
      const dependsOn = (deps: Record<string, { condition?: string }> | undefined) =>
        Object.fromEntries(Object.entries(deps ?? {}).map(([dep, { condition }]) => [dep, condition]));
      expect({ name, dependsOn: dependsOn(actual.depends_on) }).toEqual({
        name,
        dependsOn: dependsOn(service.depends_on),
      });
    }
  });

  describe('refuses a file compose would refuse, or would run other than written', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'compose-check-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    const refused = (yamlText: string, env: NodeJS.ProcessEnv = {}) => {
      const file = join(dir, 'compose.yml');
      writeFileSync(file, yamlText);
      return load(file, env);
    };

    it.each([
      ['a key the specification lacks', 'services:\n  api:\n    image: nginx\n    restrat: always\n', /restrat/],
      [
        'a dependency on a service that is not declared',
        'services:\n  api:\n    image: nginx\n    depends_on: [db]\n',
        /undefined service "db"/,
      ],
      [
        'a named volume that is not declared',
        'services:\n  api:\n    image: nginx\n    volumes: [data:/d]\n',
        /undefined volume data/,
      ],
      ['a port that is not one', "services:\n  api:\n    image: nginx\n    ports: ['web']\n", /containerPort: web/],
      ['a required variable that is unset', 'services:\n  api:\n    image: nginx:${TAG:?name a tag}\n', /name a tag/],
      ['a variable neither set nor given a default', 'services:\n  api:\n    image: nginx:${TAG}\n', /\$\{TAG\}/],
    ])('%s', (_what, yamlText, reason) => {
      const loaded = refused(yamlText);
      expect(loaded.status).toBe(1);
      expect(loaded.stderr).toMatch(reason);
    });

    it('resolves a variable from the environment, and a default where it is unset', () => {
      const file = 'services:\n  api:\n    image: nginx:${TAG}\n    environment:\n      LEVEL: ${LEVEL:-info}\n';
      const loaded = refused(file, { TAG: '1.28' });
      expect(loaded.status).toBe(0);
      const api = (JSON.parse(loaded.stdout) as { services: Record<string, ResolvedService> }).services.api!;
      expect(api.image).toBe('nginx:1.28');
      expect(api.environment).toEqual({ LEVEL: 'info' });
    });
  });
});
